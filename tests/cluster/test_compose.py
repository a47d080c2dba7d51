"""docker-compose.yml is not run here (no Docker engine on our machines): check what can be
checked without one — it parses, every service has a healthcheck, the ports it publishes are
the local stack's defaults, every file and build context it names exists in the repository, and
the configs it mounts are the local stack's templates rendered for the containers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from bazaar import config
from bazaar.monitoring import configs
from bazaar.stack import haproxy
from bazaar.stack.layout import NODES
from bazaar.stack.patroni import TIMING
from tests.harness import REPO

MONITORING = {
    *(f"postgres-exporter-{n}" for n in NODES),
    "node-exporter",
    "marketplace-exporter",
    "pgbouncer-exporter",
    "alert-receiver",
    "prometheus",
    "alertmanager",
    "grafana",
}
SERVICES = {"etcd1", "etcd2", "etcd3", *NODES, "haproxy", "pgbouncer", *MONITORING}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def host_path(spec: str) -> str:
    """The host side of a volume spec, with ${VAR:-default} replaced by its default."""
    source = spec.split(":")[0] if not spec.startswith("${") else spec.split("}:")[0] + "}"
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", source)


def test_every_service_is_there_with_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name


def test_published_ports_are_the_local_stacks_defaults(compose: dict[str, Any]) -> None:
    defaults = config.Ports(0)
    published = {
        name: {int(p.split(":")[-2]) for p in service.get("ports", [])}
        for name, service in compose["services"].items()
    }
    for n, node in enumerate(NODES, start=1):
        assert published[node] == {defaults.postgres(n), defaults.patroni(n)}
    assert published["haproxy"] == {defaults.rw, defaults.ro, defaults.stats}
    assert published["pgbouncer"] == {defaults.pgbouncer}
    for n, node in enumerate(NODES, start=1):
        assert published[f"postgres-exporter-{node}"] == {defaults.postgres_exporter(n)}
    assert published["prometheus"] == {defaults.prometheus}
    assert published["alertmanager"] == {defaults.alertmanager}
    assert published["marketplace-exporter"] == {defaults.marketplace_exporter}
    assert published["pgbouncer-exporter"] == {defaults.pgbouncer_exporter}
    assert published["grafana"] == {defaults.grafana}
    every = set().union(*published.values())
    assert every <= set(defaults.all().values())
    assert all(p.startswith("127.0.0.1:") for s in compose["services"].values() for p in s.get("ports", []))


def test_files_build_contexts_and_volumes_exist(compose: dict[str, Any]) -> None:
    named = set(compose["volumes"])
    for name, service in compose["services"].items():
        for spec in service.get("volumes", []):
            source = host_path(spec)
            if source.startswith("./"):
                assert (REPO / source).exists(), (name, source)
            elif source == "/":  # node_exporter reads the host, read-only
                assert name == "node-exporter" and spec.endswith(":ro,rslave"), spec
            else:
                assert source in named, (name, source)
        build = service.get("build")
        if build:
            assert (REPO / build["context"]).is_dir(), name
            assert (REPO / build["dockerfile"]).is_file(), name


def test_containers_use_the_local_stacks_timing_and_no_trust() -> None:
    patroni = yaml.safe_load((REPO / "patroni" / "compose" / "patroni.yml").read_text())
    dcs = patroni["bootstrap"]["dcs"]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"]) == (
        TIMING.ttl,
        TIMING.loop_wait,
        TIMING.retry_timeout,
    )
    assert dcs["synchronous_mode"] is True and dcs["postgresql"]["use_pg_rewind"] is True
    # passwords on TCP; on the socket, the postgres OS user alone (pgBackRest in the local stack)
    rules = patroni["postgresql"]["pg_hba"]
    assert rules[0] == "local all postgres peer"
    assert all(rule.endswith(("scram-sha-256", "reject")) for rule in rules[1:])
    # the same pg_hba as the local stack's, but for the address range
    local_node = yaml.safe_load((REPO / "patroni" / "patroni.yml").read_text())["postgresql"]
    local = local_node["pg_hba"]
    assert [r.replace("0.0.0.0/0", "127.0.0.1/32") for r in patroni["postgresql"]["pg_hba"]] == local
    # what the monitoring reads: the same libraries and settings (the log format aside)
    monitored = (
        "shared_preload_libraries",
        "pg_stat_statements",
        "track_functions",
        "auto_explain",
        "log_min_dur",
    )
    expected = {k: v for k, v in local_node["parameters"].items() if k.startswith(monitored)}
    assert patroni["postgresql"]["parameters"] == expected
    for path in (REPO / "patroni").rglob("*"):
        if path.is_file():
            settings = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith(("#", ";"))]
            assert not any(re.search(r"\btrust\b", ln) for ln in settings), path


def test_compose_configs_route_like_the_local_templates() -> None:
    local = (REPO / "patroni" / "haproxy.cfg").read_text()
    containers = (REPO / "patroni" / "compose" / "haproxy.cfg").read_text()
    for check in (
        "option httpchk GET /primary",
        "option httpchk GET /replica",
        "on-marked-down shutdown-sessions",
    ):
        assert check in local and check in containers
    compose_pgbouncer = (REPO / "patroni" / "compose" / "pgbouncer.ini").read_text()
    assert "pool_mode = transaction" in compose_pgbouncer
    assert "stats_users = bazaar_monitor" in compose_pgbouncer  # the PgBouncer exporter's login
    assert Path(REPO / "patroni" / "Dockerfile").read_text().count("requirements.lock") >= 1


def test_compose_haproxy_cfg_is_the_local_template_for_containers() -> None:
    """One source: patroni/compose/haproxy.cfg is patroni/haproxy.cfg rendered with the
    containers' addresses, so the two agree on everything else (threads, retries, checks, timeouts)."""
    committed = (REPO / haproxy.COMPOSE_CONFIG).read_text()
    assert committed == haproxy.compose_config(), (
        f"{haproxy.COMPOSE_CONFIG} differs from patroni/haproxy.cfg: run `python -m bazaar.stack.haproxy`"
    )


def test_compose_monitoring_configs_are_the_local_templates_for_containers() -> None:
    """One source: monitoring/compose/{prometheus,alertmanager}.yml are the local stack's templates
    rendered with the services' names (`python -m bazaar.monitoring.configs` writes them)."""
    for path, text in configs.compose_files().items():
        assert (REPO / path).read_text() == text, (
            f"{path} is stale: run `python -m bazaar.monitoring.configs`"
        )
    prometheus = yaml.safe_load((REPO / configs.COMPOSE_PROMETHEUS).read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    for job in jobs.values():
        for static in job["static_configs"]:
            for target in static["targets"]:
                host = target.split(":")[0]
                assert host in compose["services"], (job["job_name"], target)
    mounted = compose["services"]["prometheus"]["volumes"]
    assert f"./monitoring/prometheus/rules/bazaar.yml:{configs.COMPOSE_RULES}:ro" in mounted
