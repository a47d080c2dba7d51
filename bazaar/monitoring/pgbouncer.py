"""PgBouncer's metrics for Prometheus (the program `pgbouncer-exporter`, port 9127).

On every scrape it opens a connection to PgBouncer's console as bazaar_monitor (one of
`stats_users`), reads SHOW STATS, SHOW POOLS and SHOW CONFIG, and closes it: a PgBouncer that
restarted is read again at the next scrape, and one that does not answer is ``pgbouncer_up 0``.
The names are those of the prometheus-community exporter, so its dashboards read ours too.
docs/adr/0014-pgbouncer-metrics.md says why this is ours and not a Debian package.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg.rows import dict_row

from bazaar import jsonlog
from bazaar.jsonlog import log
from bazaar.monitoring.serve import serving

MICRO = 1e-6
# SHOW STATS column -> (metric, help, scale): counters since PgBouncer started
STATS = {
    "total_xact_count": ("pgbouncer_stats_sql_transactions_pooled", "SQL transactions pooled", 1.0),
    "total_query_count": ("pgbouncer_stats_queries_pooled", "SQL queries pooled", 1.0),
    "total_received": ("pgbouncer_stats_received_bytes", "bytes received from clients", 1.0),
    "total_sent": ("pgbouncer_stats_sent_bytes", "bytes sent to clients", 1.0),
    "total_xact_time": (
        "pgbouncer_stats_server_in_transaction_seconds",
        "seconds server connections spent in a transaction",
        MICRO,
    ),
    "total_query_time": (
        "pgbouncer_stats_queries_duration_seconds",
        "seconds server connections spent running queries",
        MICRO,
    ),
    "total_wait_time": (
        "pgbouncer_stats_client_wait_seconds",
        "seconds clients waited for a server connection",
        MICRO,
    ),
}
# SHOW POOLS column -> (metric, help): the connections of each (database, user) pool now
POOLS = {
    "cl_active": ("pgbouncer_pools_client_active_connections", "clients linked to a server or idle"),
    "cl_waiting": ("pgbouncer_pools_client_waiting_connections", "clients waiting for a server"),
    "sv_active": ("pgbouncer_pools_server_active_connections", "server connections linked to a client"),
    "sv_idle": ("pgbouncer_pools_server_idle_connections", "server connections idle and usable"),
    "sv_used": ("pgbouncer_pools_server_used_connections", "server connections idle, to be checked"),
    "sv_tested": ("pgbouncer_pools_server_testing_connections", "server connections being checked"),
    "sv_login": ("pgbouncer_pools_server_login_connections", "server connections logging in"),
}
# SHOW CONFIG key -> (metric, help): the limits the pool counts are measured against
CONFIG = {
    "max_client_conn": ("pgbouncer_config_max_client_connections", "max_client_conn"),
    "default_pool_size": ("pgbouncer_config_default_pool_size", "default_pool_size"),
    "reserve_pool_size": ("pgbouncer_config_reserve_pool_size", "reserve_pool_size"),
}


class PgBouncerCollector(Collector):
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._failing = False

    def read(self) -> dict[str, list[dict[str, Any]]]:
        """SHOW STATS, POOLS and CONFIG over one short-lived console connection."""
        with psycopg.connect(
            self.dsn, autocommit=True, prepare_threshold=None, connect_timeout=3, row_factory=dict_row
        ) as conn:
            return {what: conn.execute(f"show {what}").fetchall() for what in ("stats", "pools", "config")}

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        try:
            shown = self.read()
        except psycopg.Error as exc:
            if not self._failing:  # once per outage, not once per scrape
                jsonlog.error("cannot read PgBouncer's console", exc)
            self._failing = True
            shown = {}
        else:
            if self._failing:
                log("info", "PgBouncer's console answers again")
            self._failing = False
        yield GaugeMetricFamily(
            "pgbouncer_up", "1 when PgBouncer's console answered this scrape", bool(shown)
        )
        if shown:
            yield from self.families(shown)
        yield GaugeMetricFamily(
            "pgbouncer_exporter_scrape_seconds", "how long this scrape took", time.perf_counter() - started
        )

    @staticmethod
    def families(shown: dict[str, list[dict[str, Any]]]) -> Iterator[Metric]:
        for column, (name, doc, scale) in STATS.items():
            counter = CounterMetricFamily(name, doc, labels=["database"])
            for row in shown["stats"]:
                counter.add_metric([row["database"]], float(row[column]) * scale)
            yield counter
        for column, (name, doc) in POOLS.items():
            gauge = GaugeMetricFamily(name, doc, labels=["database", "user"])
            for row in shown["pools"]:
                gauge.add_metric([row["database"], row["user"]], float(row[column]))
            yield gauge
        wait = GaugeMetricFamily(
            "pgbouncer_pools_client_maxwait_seconds",
            "how long the oldest waiting client has waited",
            labels=["database", "user"],
        )
        for row in shown["pools"]:
            wait.add_metric([row["database"], row["user"]], row["maxwait"] + row["maxwait_us"] * MICRO)
        yield wait
        settings = {row["key"]: row["value"] for row in shown["config"]}
        for key, (name, doc) in CONFIG.items():
            if key in settings:
                yield GaugeMetricFamily(name, doc, float(settings[key]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bazaar-pgbouncer-exporter", description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--dsn", required=True, help="PgBouncer's console as a stats user, with a passfile")
    args = parser.parse_args(argv)
    with serving(PgBouncerCollector(args.dsn), args.listen, "pgbouncer exporter"):
        threading.Event().wait()  # until supervisord's SIGTERM
    return 0


if __name__ == "__main__":
    sys.exit(main())
