#!/bin/sh
# supervisord runs this (as postgres) for each Patroni node: usage run-patroni.sh PATRONI CONFIG HOLDFILE
# While HOLDFILE holds a Unix time in the future, the node stays down: `bazaar cluster kill` writes it so
# a crashed node is not restarted by supervisord before the drill is over. Then exec: the PID
# supervisord records is Patroni's own.
patroni=$1 config=$2 hold=$3
while [ -f "$hold" ] && [ "$(date +%s)" -lt "$(cat "$hold" 2>/dev/null || echo 0)" ]; do
    sleep 0.2
done
exec "$patroni" "$config"
