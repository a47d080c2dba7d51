"""Is the local stack healthy? The verdict of `bazaar status`: a list of problems, none when
healthy, so the command can exit non-zero for a script, a compose healthcheck or an operator.

The same conditions as the critical and cluster alerts of monitoring/prometheus/rules/bazaar.yml,
read straight from supervisord, Patroni and the leader (no Prometheus needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bazaar.stack.patroni import Member

LAG_LIMIT_BYTES = 64 * 1024 * 1024  # as BazaarReplicaLagBytes


def problems(
    processes: Sequence[Mapping[str, Any]],
    members: Sequence[Member],
    expected_members: int,
    archiving: Mapping[str, Any] | None,
) -> list[str]:
    """What is wrong, one line each: programs not running, no (or several) leaders, members
    missing, down or behind, no synchronous standby, WAL archiving failing. ARCHIVING is the
    leader's archiver_failing.sql row, None when the leader could not be asked."""
    found = [f"program {p['name']} is {p['state']}" for p in processes if p["state"] != "running"]
    leaders = [m for m in members if m.role == "leader"]
    if not leaders:
        found.append("no leader: writes fail")
    elif len(leaders) > 1:
        found.append(f"{len(leaders)} leaders: {', '.join(m.name for m in leaders)}")
    if len(members) < expected_members:
        found.append(f"{len(members)} of {expected_members} members in the cluster")
    for m in members:
        if m.role != "leader" and m.state not in ("streaming", "running"):
            found.append(f"member {m.name} is {m.state or 'unknown'}")
        elif m.role != "leader" and (not isinstance(m.lag, int) or m.lag > LAG_LIMIT_BYTES):
            lag = f"{m.lag / 1048576:.0f} MB" if isinstance(m.lag, int) else str(m.lag or "unknown")
            found.append(f"member {m.name} lags {lag} behind the leader")
    if leaders and len(members) > 1 and not any(m.role == "sync_standby" for m in members):
        found.append("no synchronous standby: a leader crash may lose committed transactions")
    if leaders and archiving is None:
        found.append(f"the leader {leaders[0].name} does not answer queries")
    elif archiving is not None and archiving["failing"]:
        found.append(f"WAL archiving fails (segment {archiving['last_failed_wal']}): `bazaar backup check`")
    return found
