"""The verdict of `bazaar status` (bazaar/stack/health.py) on made-up states: no stack needed.
(On the live stack: tests/cluster/test_cluster.py.)"""

from __future__ import annotations

from typing import Any

from bazaar.stack.health import problems
from bazaar.stack.patroni import Member

RUNNING = [{"name": "etcd", "state": "running"}, {"name": "node1", "state": "running"}]
OK_ARCHIVING = {"failing": False, "last_failed_wal": None}


def member(name: str, role: str, state: str = "streaming", lag: Any = 0) -> Member:
    return Member(name, role, state, "127.0.0.1", 5433, 1, None if role == "leader" else lag)


HEALTHY = [member("node1", "leader", "running"), member("node2", "sync_standby"), member("node3", "replica")]


def test_a_healthy_stack_has_no_problem() -> None:
    assert problems(RUNNING, HEALTHY, 3, OK_ARCHIVING) == []


def test_each_kind_of_trouble_is_named() -> None:
    stopped = [*RUNNING, {"name": "prometheus", "state": "fatal"}]
    assert problems(stopped, HEALTHY, 3, OK_ARCHIVING) == ["program prometheus is fatal"]
    assert problems(RUNNING, HEALTHY[1:], 3, None) == [
        "no leader: writes fail",
        "2 of 3 members in the cluster",
    ]
    two = [HEALTHY[0], member("node2", "leader", "running"), HEALTHY[2]]
    assert "2 leaders: node1, node2" in problems(RUNNING, two, 3, OK_ARCHIVING)
    behind = [HEALTHY[0], HEALTHY[1], member("node3", "replica", lag=100 * 1048576)]
    assert problems(RUNNING, behind, 3, OK_ARCHIVING) == ["member node3 lags 100 MB behind the leader"]
    down = [HEALTHY[0], member("node2", "replica", "stopped", lag=None), HEALTHY[2]]
    assert problems(RUNNING, down, 3, OK_ARCHIVING) == [
        "member node2 is stopped",
        "no synchronous standby: a leader crash may lose committed transactions",
    ]
    failing = {"failing": True, "last_failed_wal": "000000010000000000000007"}
    assert problems(RUNNING, HEALTHY, 3, failing) == [
        "WAL archiving fails (segment 000000010000000000000007): `bazaar backup check`"
    ]
    assert problems(RUNNING, HEALTHY, 3, None) == ["the leader node1 does not answer queries"]
