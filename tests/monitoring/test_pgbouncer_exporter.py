"""The PgBouncer exporter without a PgBouncer: a console that does not answer is `pgbouncer_up 0`,
logged once per outage. (Its metrics from the stack's real PgBouncer, and its recovery after a
PgBouncer restart: tests/cluster/test_monitoring.py.)"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bazaar.config import free_port_offset
from bazaar.monitoring.pgbouncer import PgBouncerCollector


def scrape(collector: PgBouncerCollector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


def test_a_console_that_does_not_answer_is_down_and_logged_once(capsys: pytest.CaptureFixture[str]) -> None:
    port = 9127 + free_port_offset()  # nothing listens there
    collector = PgBouncerCollector(f"host=127.0.0.1 port={port} dbname=pgbouncer user=nobody")
    for _ in range(3):
        text = scrape(collector)
        assert "pgbouncer_up 0.0" in text
        assert "pgbouncer_pools_" not in text
    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 1 and '"level": "error"' in logged[0]
