"""Cluster.unstick without a stack: the decision to restart a stuck Patroni, on fakes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bazaar import config
from bazaar.stack.cluster import Cluster
from bazaar.stack.layout import ServerRoot
from bazaar.stack.patroni import Member, PatroniAPI
from bazaar.stack.processes import dead_children, poll
from bazaar.stack.supervisor import Supervisor


class FakePatroni(PatroniAPI):
    """Members in the states given, whatever Patroni would say."""

    def __init__(self, states: dict[str, str]) -> None:
        super().__init__(config.Ports(0), {})
        object.__setattr__(self, "states", states)

    def members(self) -> list[Member]:
        states: dict[str, str] = self.states  # type: ignore[attr-defined]
        return [Member(n, "replica", s, "127.0.0.1", 1, 1, 0) for n, s in states.items()]


class FakeSupervisor(Supervisor):
    """Records supervisorctl's arguments instead of running it."""

    def __init__(self, root: ServerRoot) -> None:
        super().__init__(root)
        object.__setattr__(self, "signalled", [])

    def ctl(self, *args: str, check: bool = True) -> str:
        self.signalled.append(args)  # type: ignore[attr-defined]
        return ""


def fake_cluster(root: Path, states: dict[str, str]) -> tuple[Cluster, FakeSupervisor]:
    cluster = Cluster(ServerRoot(root), config.Ports(0), {})
    supervisor = FakeSupervisor(cluster.root)
    # Cluster's patroni and supervisor are cached properties: an instance attribute replaces them
    object.__setattr__(cluster, "patroni", FakePatroni(states))
    object.__setattr__(cluster, "supervisor", supervisor)
    return cluster, supervisor


def test_a_node_starting_without_postgres_is_restarted_only_after_the_grace_period(tmp_path: Path) -> None:
    cluster, supervisor = fake_cluster(
        tmp_path, {"node1": "starting", "node2": "streaming", "node3": "running"}
    )
    seen: dict[str, float] = {}
    assert cluster.unstick(seen, after=60) == []
    assert "node1" in seen and supervisor.signalled == []  # type: ignore[attr-defined]
    assert cluster.unstick(seen, after=0) == ["node1"]
    assert supervisor.signalled == [("signal", "KILL", "node1")]  # type: ignore[attr-defined]
    assert seen == {}


def test_a_node_with_a_postmaster_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster, supervisor = fake_cluster(tmp_path, {"node1": "starting"})

    def alive(_datadir: Any) -> int:
        return 4242

    monkeypatch.setattr("bazaar.stack.cluster.postmaster_pid", alive)
    seen: dict[str, float] = {}
    assert cluster.unstick(seen, after=0) == []
    assert seen == {}
    assert supervisor.signalled == []  # type: ignore[attr-defined]


def test_a_child_that_exited_unreaped_is_named_with_its_status() -> None:
    # what a stuck Patroni holds: the helper that was to start PostgreSQL, dead, never waited for
    helper = subprocess.Popen(["sh", "-c", "exit 255"])
    try:

        def zombie() -> list[str] | None:  # None until the child has exited (poll waits on None)
            return [d for d in dead_children(os.getpid()) if d.startswith(f"{helper.pid} ")] or None

        found = poll(zombie, 10, "the helper to exit")
        assert found == [f"{helper.pid} exited with status 255"]
    finally:
        helper.wait()
    assert not [d for d in dead_children(os.getpid()) if d.startswith(f"{helper.pid} ")]
