"""etcd, Patroni's DCS: three members under supervisord (programs etcd1, etcd2, etcd3), and the
few questions bazaar asks them through etcdctl (which members answer, which one leads the raft
group, the keys under a prefix).

Three members keep a quorum with one lost; with all three lost, Patroni's failsafe_mode keeps
the leader writing while it reaches every replica (docs/adr/0023-dcs-without-single-point-of-failure.md).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from bazaar import config
from bazaar.errors import BazaarError

MEMBERS = tuple(f"etcd{m}" for m in range(1, config.ETCD_MEMBERS + 1))


def etcdctl(ports: config.Ports, *args: str, endpoints: str | None = None) -> str:
    """Run etcdctl (API v3) against every member (or ENDPOINTS); its standard output."""
    argv = ["etcdctl", f"--endpoints={endpoints or ports.etcd_endpoints}", "--command-timeout=3s", *args]
    result = subprocess.run(
        argv, env={**os.environ, "ETCDCTL_API": "3"}, capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        raise BazaarError(f"etcdctl {' '.join(args)}: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def status(ports: config.Ports) -> dict[str, dict[str, Any]]:
    """member name -> its status ({'leader': bool, 'raft_term': int}) for each member that answers."""
    found = {}
    for m, name in enumerate(MEMBERS, start=1):
        try:
            text = etcdctl(ports, "endpoint", "status", "-w", "json", endpoints=f"127.0.0.1:{ports.etcd(m)}")
        except BazaarError:
            continue
        row = json.loads(text)[0]["Status"]
        found[name] = {"leader": row["leader"] == row["header"]["member_id"], "raft_term": row["raftTerm"]}
    return found


def leader(ports: config.Ports) -> str | None:
    """The member leading the raft group, None when no member answers or none leads."""
    return next((name for name, row in status(ports).items() if row["leader"]), None)


def delete_prefix(ports: config.Ports, prefix: str) -> list[str]:
    """Delete every key under PREFIX; the keys still there afterwards (none, normally)."""
    etcdctl(ports, "del", "--prefix", prefix)
    return etcdctl(ports, "get", "--prefix", "--keys-only", prefix).split()
