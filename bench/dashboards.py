"""The analysts' dashboard panels at scale: what each SQL panel of the marketplace dashboard costs,
against one scan of the table it reads, on generated data in the same run; print JSON.

    PYTHONPATH=. .venv/bin/python bench/dashboards.py [--scale 1] [--repeat 5] [--output FILE]

A throwaway PostgreSQL 15 server, migrated and loaded by the generator at --scale (1 = 1M
listings, 12 months). Each SQL panel of monitoring/grafana/dashboards/*.json runs as Grafana
would send it (bazaar/monitoring/prove.py: the default time range, every value of a variable) as
bazaar_analyst, --repeat times after one warm-up; the baseline is `count(*)` of the core table
its view reads, measured alternately with it. ratio = panel median / scan median: how many scans
of its table a panel costs (the views are rollups computed at query time: ADR 0015).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from bazaar.monitoring import prove
from bench.common import figures, loaded_database, report

# the core table each analytics view reads most of
TABLES = {
    "new_listings_daily": "core.listings",
    "active_listings": "core.listings",
    "moderation_daily": "core.listing_status_history",
    "orders_daily": "core.orders",
    "contact_clicks_daily": "core.contact_clicks_daily",
    "reviews_daily": "core.reviews",
    "seller_ratings": "core.reviews",
    "outbox_daily": "core.notifications",
}


def timed(conn: psycopg.Connection[Any], statement: str | sql.Composable) -> float:
    started = time.perf_counter()
    conn.execute(statement.encode() if isinstance(statement, str) else statement).fetchall()
    return (time.perf_counter() - started) * 1000


def panels() -> list[tuple[str, str]]:
    """(title, SQL as Grafana sends it) of every SQL panel."""
    found = []
    for path in prove.dashboard_files():
        board = json.loads(path.read_text())
        span = prove.seconds(board["time"]["from"].removeprefix("now-"))
        end = datetime.now(UTC)
        values = {
            v["name"]: prove.Value(tuple(v["query"].split(",")), True)
            for v in board["templating"]["list"]
            if v["type"] == "custom"
        }
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if "rawSql" in target:
                    text = prove.sql_text(target["rawSql"], values, end - timedelta(seconds=span), end)
                    found.append((panel["title"], text))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output")
    args = parser.parse_args()
    results = []
    with (
        loaded_database(args.scale) as loaded,
        psycopg.connect(loaded.dsn, autocommit=True) as analyst,
        psycopg.connect(loaded.dsn, autocommit=True) as admin,
    ):
        analyst.execute("set role bazaar_analyst")
        for title, text in panels():
            view = re.search(r"analytics\.(\w+)", text)
            assert view, text
            scan = sql.SQL("select count(*) from {}").format(sql.Identifier(*TABLES[view[1]].split(".")))
            rows = len(analyst.execute(text.encode()).fetchall())  # and warms the caches
            timed(admin, scan)
            ours, baseline = [], []
            for _ in range(args.repeat):
                ours.append(timed(analyst, text))
                baseline.append(timed(admin, scan))
            results.append(
                {
                    "panel": title,
                    "view": f"analytics.{view[1]}",
                    "rows": rows,
                    "panel_ms": figures(ours),
                    "scan": TABLES[view[1]],
                    "scan_ms": figures(baseline),
                    "ratio_median": round(statistics.median(ours) / statistics.median(baseline), 2),
                }
            )
    result = {
        "benchmark": "dashboards",
        "scale": args.scale,
        "load_s": loaded.load_s,
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": os.getloadavg()[0]},
        "panels": results,
        "slowest_panel_median_ms": max(r["panel_ms"]["median_ms"] for r in results),
    }
    report(result, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
