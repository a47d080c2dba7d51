"""The benchmark's workload runs (bench/workload/, `make bench`): every script, ours and the naive
schema's, against freshly generated data, as the role the benchmark uses, without a failed
transaction. The figures themselves are the benchmark's business, not a test's."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from bazaar import migrate
from bench.scale import SAMPLES, WORKLOAD, figures, pgbench, prepare
from generator.load import load
from tests.harness import SQL_DIR, ServerUnderTest

pytestmark = pytest.mark.slow


def test_every_workload_script_runs_on_generated_data(server: ServerUnderTest, tmp_path: Path) -> None:
    with server.scratch_database() as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
        load(
            dsn, scale=0.005, seed=3, as_of=int(time.time()) // 86400 * 86400, months=12, password=None,
            truncate=False, progress=False, report=lambda _line: None,
        )  # fmt: skip
        counts = prepare(dsn)
        assert set(counts) == set(SAMPLES)
        assert all(counts[table] > 0 for table in SAMPLES), counts
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute((WORKLOAD / "naive.sql").read_text().encode())
        info = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(dsn).items()}
        defines = [f"-D{k}={v}" for k, v in counts.items()]
        scripts = sorted(p.stem for p in WORKLOAD.glob("*.sql") if p.stem not in ("prepare", "naive"))
        assert {"card", "approve", "naive_search", "card_plain"} <= set(scripts)
        for script in scripts:
            # the application's role for the api; the superuser for the schemas it may not read
            user = "postgres" if script.startswith("naive_") or script == "card_plain" else "bench_app"
            output, latencies = pgbench(
                {**info, "user": user},
                ["-c", "2", "-t", "3", *defines, "-f", str(WORKLOAD / f"{script}.sql")],
                tmp_path,
            )
            result = figures(output, latencies)
            assert result["failed"] == 0 and result["transactions"] == 6, f"{script}: {output}"
