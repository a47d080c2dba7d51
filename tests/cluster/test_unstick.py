"""Cluster.unstick without a stack: the decision to restart a stuck Patroni, on fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bazaar import config
from bazaar.cluster import Cluster, Member


class FakeCluster(Cluster):
    def __init__(self, root: Path, states: dict[str, str]) -> None:
        super().__init__(root, config.Ports(0), {})
        object.__setattr__(self, "states", states)
        object.__setattr__(self, "signalled", [])

    def members(self) -> list[Member]:
        states: dict[str, str] = self.states  # type: ignore[attr-defined]
        return [Member(n, "replica", s, "127.0.0.1", 1, 1, 0) for n, s in states.items()]

    def ctl(self, *args: str, check: bool = True) -> str:
        self.signalled.append(args)  # type: ignore[attr-defined]
        return ""


def test_a_node_starting_without_postgres_is_restarted_only_after_the_grace_period(tmp_path: Path) -> None:
    cluster = FakeCluster(tmp_path, {"node1": "starting", "node2": "streaming", "node3": "running"})
    seen: dict[str, float] = {}
    assert cluster.unstick(seen, after=60) == []
    assert "node1" in seen and cluster.signalled == []  # type: ignore[attr-defined]
    assert cluster.unstick(seen, after=0) == ["node1"]
    assert cluster.signalled == [("signal", "KILL", "node1")]  # type: ignore[attr-defined]
    assert seen == {}


def test_a_node_with_a_postmaster_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster(tmp_path, {"node1": "starting"})

    def alive(_datadir: Any) -> int:
        return 4242

    monkeypatch.setattr("bazaar.cluster._postmaster_pid", alive)
    seen: dict[str, float] = {}
    assert cluster.unstick(seen, after=0) == []
    assert seen == {}
