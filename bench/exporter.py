"""Marketplace exporter benchmark: what one scrape costs the leader, against counting at scrape
time, on generated data in the same run; print JSON.

    PYTHONPATH=. .venv/bin/python bench/exporter.py [--scale 1] [--repeat 30] [--output FILE]

A throwaway PostgreSQL 15 server (tests/harness.py), migrated, loaded by the generator at
--scale (1 = 1M listings) and ANALYZEd, then alternately, --repeat times each:

- ours: `select * from monitoring.marketplace_metrics()` as bazaar_monitor, what the exporter
  runs at every scrape (estimates from planner statistics above 100,000 rows, partial indexes,
  statistics views);
- baseline: the naive scrape it replaces, `count(*)` grouped by status and kind over listings
  and orders, blocked users, and the moderation queue and outbox by plain filters.

Figures: median and p95 milliseconds of each; ratio = baseline median / ours median (above 1:
ours is cheaper). The goal of issue 15: a scrape under 200 ms at scale 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import psycopg
from psycopg import sql

from bench.common import figures, loaded_database, report

OURS = "select * from monitoring.marketplace_metrics()"
BASELINE = (
    "select status, count(*) from core.listings group by 1",
    "select kind, count(*) from core.listings group by 1",
    "select status, count(*) from core.orders group by 1",
    "select count(*) from core.users where blocked_at is not null",
    "select count(*), min(status_changed_at) from core.listings where status = 'pending'",
    "select channel, count(*), min(created_at) from core.notifications "
    "where delivered_at is null and failed_at is null group by 1",
    "select count(*) from core.notifications where failed_at is not null",
)


def timed(conn: psycopg.Connection[Any], statements: tuple[str, ...]) -> float:
    started = time.perf_counter()
    for statement in statements:
        conn.execute(statement.encode()).fetchall()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--output")
    args = parser.parse_args()
    with loaded_database(args.scale) as loaded:
        dsn, load_s = loaded.dsn, loaded.load_s
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = {}
            for table in ("listings", "orders", "users", "notifications"):
                row = conn.execute(
                    sql.SQL("select count(*) from core.{}").format(sql.Identifier(table))
                ).fetchone()
                rows[table] = row[0] if row else 0
        # ours as the exporter runs it (bazaar_monitor), the baseline as the superuser
        with psycopg.connect(dsn, autocommit=True) as monitor, psycopg.connect(dsn, autocommit=True) as admin:
            monitor.execute("set role bazaar_monitor")
            monitor.execute("set statement_timeout = 0")
            ours: list[float] = []
            baseline: list[float] = []
            for _ in range(2):  # warm the caches for both
                timed(monitor, (OURS,))
                timed(admin, BASELINE)
            for _ in range(args.repeat):  # alternate, so a drift of the machine touches both alike
                ours.append(timed(monitor, (OURS,)))
                baseline.append(timed(admin, BASELINE))
            series = len(monitor.execute(OURS.encode()).fetchall())
    result = {
        "benchmark": "exporter",
        "scale": args.scale,
        "rows": rows,
        "load_s": load_s,
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": os.getloadavg()[0]},
        "ours": figures(ours) | {"series": series},
        "baseline_count_at_scrape": figures(baseline),
        "ratio_median": round(statistics.median(baseline) / statistics.median(ours), 2),
        "goal": "a scrape under 200 ms at scale 1",
    }
    report(result, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
