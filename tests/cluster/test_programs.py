"""The programs of the stack without a stack: their entries, the reloads a changed config
causes, and the order `bazaar down` stops them in (supervisorctl recorded, not run)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import pytest

from bazaar import config
from bazaar.errors import BazaarError
from bazaar.stack.cluster import Cluster
from bazaar.stack.layout import NODES, ServerRoot
from bazaar.stack.patroni import TIMING, PatroniAPI
from bazaar.stack.programs import PROGRAMS, summary
from bazaar.stack.supervisor import Supervisor
from bazaar.stack.templates import Context


class RecordingSupervisor(Supervisor):
    """Records supervisorctl's arguments instead of running it; supervisord 'runs'."""

    def __init__(self, root: ServerRoot) -> None:
        super().__init__(root)
        object.__setattr__(self, "calls", [])

    def ctl(self, *args: str, check: bool = True) -> str:
        self.calls.append(args)  # type: ignore[attr-defined]
        return ""

    def pid(self) -> int | None:
        return None if ("shutdown",) in self.calls else 1  # type: ignore[attr-defined]

    def calls_made(self) -> list[tuple[str, ...]]:
        calls: list[tuple[str, ...]] = self.calls  # type: ignore[attr-defined]
        return calls


class LeaderIs(PatroniAPI):
    def __init__(self, leader: str) -> None:
        super().__init__(config.Ports(0), {})
        object.__setattr__(self, "leader", leader)

    def leader_name(self) -> str | None:
        leader: str = self.leader  # type: ignore[attr-defined]
        return leader


def test_every_program_has_a_name_of_its_own_and_its_own_section(tmp_path: Path) -> None:
    names = [p.name for p in PROGRAMS]
    assert names == [
        "etcd1",
        "etcd2",
        "etcd3",
        *NODES,
        "haproxy",
        "pgbouncer",
        "backup-scheduler",
        "mail-sink",
        "delivery-worker",
        *(f"postgres-exporter-{n}" for n in NODES),
        "marketplace-exporter",
        "pgbouncer-exporter",
        "node-exporter",
        "alert-receiver",
        "alertmanager",
        "prometheus",
    ]
    ctx = Context(ServerRoot(tmp_path), config.Ports(0), {}, TIMING, Path("/venv/bin"), "/home")
    for program in PROGRAMS:
        section = ctx.render(program.section, name=program.name, **program.values(ctx))
        assert section.startswith(f"[program:{program.name}]\n"), program.name
        assert f"stdout_logfile = {tmp_path}/log/{program.name}.log\n" in section, program.name
        assert "user = postgres\n" in section, program.name
    # a file of conf/ several programs read (the exporters' queries) is the same file for each
    texts: dict[str, set[str]] = {}
    with_secrets = dataclasses.replace(ctx, secrets=defaultdict(lambda: "a-password"))
    for file in (f for p in PROGRAMS for f in p.configs):
        texts.setdefault(file.name, set()).add(file.text(with_secrets))
    assert {name for name, text in texts.items() if len(text) > 1} == set()
    assert summary() == (
        "3 etcd members, 3 Patroni nodes, HAProxy, PgBouncer, the backup scheduler, the mail sink, "
        "the delivery worker, 3 postgres_exporters, "
        "the marketplace exporter, the PgBouncer exporter, node_exporter, the alert receiver, "
        "Alertmanager, Prometheus"
    )


def test_a_changed_config_reloads_the_programs_that_read_it(tmp_path: Path) -> None:
    supervisor = RecordingSupervisor(ServerRoot(tmp_path))
    supervisor.apply({"supervisord.conf", "haproxy.cfg", "node2.yml", "userlist.txt"})
    assert supervisor.calls_made() == [
        ("update",),
        ("signal", "HUP", "node2"),
        ("signal", "HUP", "pgbouncer"),
        ("restart", "haproxy"),
        ("start", "all"),
    ]
    supervisor = RecordingSupervisor(ServerRoot(tmp_path))
    supervisor.apply(set())
    assert supervisor.calls_made() == [("start", "all")]


def test_down_stops_routing_then_replicas_then_the_leader_then_etcd(tmp_path: Path) -> None:
    cluster = Cluster(ServerRoot(tmp_path), config.Ports(0), {})
    supervisor = RecordingSupervisor(cluster.root)
    # Cluster's patroni and supervisor are cached properties: an instance attribute replaces them
    object.__setattr__(cluster, "supervisor", supervisor)
    object.__setattr__(cluster, "patroni", LeaderIs("node2"))
    assert cluster.stop() is True
    assert supervisor.calls_made() == [
        (
            "stop",
            "prometheus",
            "alertmanager",
            "alert-receiver",
            "node-exporter",
            "pgbouncer-exporter",
            "marketplace-exporter",
            *(f"postgres-exporter-{n}" for n in reversed(NODES)),
            "delivery-worker",
            "mail-sink",
            "backup-scheduler",
            "pgbouncer",
            "haproxy",
        ),
        ("stop", "node1", "node3"),
        ("stop", "node2"),
        ("stop", "etcd3", "etcd2", "etcd1"),
        ("shutdown",),
    ]


@pytest.mark.parametrize("value", ["x\r[program:evil]", 'a"b', "50%", "a\\b", "it's", "tab\there"])
def test_what_up_passes_to_the_delivery_worker_cannot_break_its_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BAZAAR_TELEGRAM_API", value)
    ctx = Context(ServerRoot(tmp_path), config.Ports(0), {}, TIMING, Path("/venv/bin"), "/home")
    worker = next(p for p in PROGRAMS if p.name == "delivery-worker")
    with pytest.raises(BazaarError, match="BAZAAR_TELEGRAM_API may not hold"):
        worker.values(ctx)
    monkeypatch.setenv("BAZAAR_TELEGRAM_API", "https://bot-api.example.net:8081/path?x=1")
    assert ',BAZAAR_TELEGRAM_API="https://bot-api.example.net:8081/path?x=1"' in str(
        worker.values(ctx)["channels_env"]
    )
