"""Where things are: the project's SQL, the local stack's state directory, and its ports.

Environment:
  BAZAAR_HOME          state of the local stack (default: <checkout>/var)
  BAZAAR_PORT_OFFSET   added to every default port, so two stacks run side by side (default 0)
  BAZAAR_SQL_DIR       the SQL tree to migrate from (default: <checkout>/sql)
  BAZAAR_DSN           application DSN (default: the local stack's)
  BAZAAR_ADMIN_DSN     admin DSN for migrations and ops (default: the local stack's)
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from pathlib import Path

from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError

DATABASE = "bazaar"
# PgBouncer's name for the marketplace on the replicas (HAProxy's read-only port): patroni/pgbouncer.ini
READ_ONLY_POOL = "bazaar_ro"
# Default ports (README → The local stack), each moved by BAZAAR_PORT_OFFSET.
POSTGRES_BASE_PORT = 5433
# etcd, Patroni's DCS: three members (a quorum survives one lost), member n's client port 2379 +
# 2(n - 1) and its peer port one above: 2379/2380, 2381/2382, 2383/2384
ETCD_CLIENT_PORT = 2379
ETCD_MEMBERS = 3
PATRONI_BASE_PORT = 8008
HAPROXY_RW_PORT = 5000
HAPROXY_RO_PORT = 5001
HAPROXY_STATS_PORT = 7000
PGBOUNCER_PORT = 6432
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
MARKETPLACE_EXPORTER_PORT = 9200
PGBOUNCER_EXPORTER_PORT = 9127  # the port PgBouncer exporters customarily use
GRAFANA_PORT = 3000  # docker-compose.yml only: no Grafana runs in the local stack
MAIL_SINK_PORT = 2525  # the local stack's SMTP server (bazaar/worker/mailsink.py)
ALERT_RECEIVER_PORT = 9095  # 9094 is Alertmanager's cluster port, which ours does not open
NODE_EXPORTER_PORT = 9100
POSTGRES_EXPORTER_BASE_PORT = 9187  # postgres_exporter's own default, then one per node
NODES = 3


def project_root() -> Path:
    """The checkout bazaar runs from (an editable install), else the working directory."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def home() -> Path:
    value = os.environ.get("BAZAAR_HOME")
    return Path(value).resolve() if value else project_root() / "var"


def sql_dir() -> Path:
    value = os.environ.get("BAZAAR_SQL_DIR")
    return Path(value).resolve() if value else project_root() / "sql"


def port_offset() -> int:
    raw = os.environ.get("BAZAAR_PORT_OFFSET", "0")
    try:
        offset = int(raw)
    except ValueError:
        raise BazaarError(
            f"BAZAAR_PORT_OFFSET must be an integer, not {raw!r}", exit_code=EXIT_BAD_ARGUMENT
        ) from None
    if not 0 <= offset <= 50000:
        raise BazaarError(
            f"BAZAAR_PORT_OFFSET must be between 0 and 50000, not {offset}", exit_code=EXIT_BAD_ARGUMENT
        )
    return offset


@dataclass(frozen=True)
class Ports:
    offset: int = 0

    def postgres(self, node: int) -> int:
        """PostgreSQL port of node 1, 2, 3 (5433 to 5435 by default)."""
        return POSTGRES_BASE_PORT + node - 1 + self.offset

    def patroni(self, node: int) -> int:
        """Patroni REST API port of node 1, 2, 3 (8008 to 8010 by default)."""
        return PATRONI_BASE_PORT + node - 1 + self.offset

    def etcd(self, member: int) -> int:
        """Client port of etcd member 1, 2, 3 (2379, 2381, 2383 by default)."""
        return ETCD_CLIENT_PORT + 2 * (member - 1) + self.offset

    def etcd_peer(self, member: int) -> int:
        """Peer port of etcd member 1, 2, 3 (2380, 2382, 2384 by default)."""
        return self.etcd(member) + 1

    @property
    def etcd_endpoints(self) -> str:
        """Every member's client address, as Patroni's etcd3.hosts and etcdctl's --endpoints take them."""
        return ",".join(f"127.0.0.1:{self.etcd(m)}" for m in range(1, ETCD_MEMBERS + 1))

    @property
    def rw(self) -> int:
        """HAProxy's read-write port: whichever node Patroni says is the primary."""
        return HAPROXY_RW_PORT + self.offset

    @property
    def ro(self) -> int:
        """HAProxy's read-only port: balanced over the replicas."""
        return HAPROXY_RO_PORT + self.offset

    @property
    def stats(self) -> int:
        return HAPROXY_STATS_PORT + self.offset

    @property
    def pgbouncer(self) -> int:
        return PGBOUNCER_PORT + self.offset

    @property
    def prometheus(self) -> int:
        return PROMETHEUS_PORT + self.offset

    @property
    def alertmanager(self) -> int:
        return ALERTMANAGER_PORT + self.offset

    @property
    def marketplace_exporter(self) -> int:
        return MARKETPLACE_EXPORTER_PORT + self.offset

    @property
    def pgbouncer_exporter(self) -> int:
        return PGBOUNCER_EXPORTER_PORT + self.offset

    @property
    def mail_sink(self) -> int:
        return MAIL_SINK_PORT + self.offset

    @property
    def grafana(self) -> int:
        return GRAFANA_PORT + self.offset

    @property
    def alert_receiver(self) -> int:
        return ALERT_RECEIVER_PORT + self.offset

    @property
    def node_exporter(self) -> int:
        return NODE_EXPORTER_PORT + self.offset

    def postgres_exporter(self, node: int) -> int:
        """postgres_exporter of node 1, 2, 3 (9187 to 9189 by default)."""
        return POSTGRES_EXPORTER_BASE_PORT + node - 1 + self.offset

    def all(self) -> dict[str, int]:
        """Every port the stack listens on, by name (to check they are free, or to print them)."""
        ports: dict[str, int] = {}
        for m in range(1, ETCD_MEMBERS + 1):
            ports |= {f"etcd{m}": self.etcd(m), f"etcd{m}-peer": self.etcd_peer(m)}
        for n in range(1, NODES + 1):
            ports[f"postgres-node{n}"] = self.postgres(n)
            ports[f"patroni-node{n}"] = self.patroni(n)
        ports |= {"haproxy-rw": self.rw, "haproxy-ro": self.ro, "haproxy-stats": self.stats}
        ports["pgbouncer"] = self.pgbouncer
        ports |= {f"postgres-exporter-node{n}": self.postgres_exporter(n) for n in range(1, NODES + 1)}
        ports |= {"node-exporter": self.node_exporter, "prometheus": self.prometheus}
        ports |= {"alertmanager": self.alertmanager, "alert-receiver": self.alert_receiver}
        ports["marketplace-exporter"] = self.marketplace_exporter
        ports["pgbouncer-exporter"] = self.pgbouncer_exporter
        ports["grafana"] = self.grafana
        ports["mail-sink"] = self.mail_sink
        return ports


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on HOST:PORT: the one port probe of bazaar."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port_offset(low: int = 10000, high: int = 22000) -> int:
    """A BAZAAR_PORT_OFFSET at which every port of the stack is free right now.

    Between LOW and HIGH, so every port stays below Linux's ephemeral range (32768 and up),
    where outgoing connections could take one before the stack binds it.
    """
    rng = random.Random()  # noqa: S311 (spreading test stacks over ports, not cryptography)
    for _ in range(200):
        offset = rng.randrange(low, high, 10)
        if not any(port_in_use(p) for p in Ports(offset).all().values()):
            return offset
    raise RuntimeError("no port offset with all of the stack's ports free")
