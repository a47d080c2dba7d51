"""The marketplace exporter (prometheus-client): the marketplace as metrics for Prometheus.

On every scrape it asks the leader for ``monitoring.marketplace_metrics()`` (as bazaar_monitor):
listings and orders by status, the moderation queue and its oldest item, reservations about to
lapse, the outbox per channel and its dead letters, rows inserted per table, api function calls
and time. Each row is cheap at any scale (planner statistics, partial indexes, statistics
views); `bench/exporter.py` measures a scrape. Every few minutes a background thread asks a
replica for ``monitoring.integrity_violations()``, which reads whole tables and must not run at
scrape time. Its own cost is a metric too: ``bazaar_exporter_scrape_seconds``.

The supervisord program ``marketplace-exporter`` (as postgres, from the package copy):

    python -m bazaar.monitoring.exporter --listen 127.0.0.1:9200 --dsn LEADER --replica-dsn REPLICA
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from bazaar import jsonlog
from bazaar.jsonlog import log
from bazaar.monitoring.serve import serving

# what each metric of monitoring.marketplace_metrics() means; a counter's name ends in _total
HELP = {
    "bazaar_listings": "listings by status (counted below 100k rows, estimated above)",
    "bazaar_listings_by_kind": "listings by kind (counted below 100k rows, estimated above)",
    "bazaar_orders": "orders by status (counted below 100k rows, estimated above)",
    "bazaar_users_blocked": "blocked users (counted below 100k rows, estimated above)",
    "bazaar_moderation_queue": "new listings and changes to listings on sale waiting for moderation",
    "bazaar_moderation_oldest_seconds": "how long the oldest new listing or change has waited for moderation",
    "bazaar_reservations_expiring_soon": "reservations that lapse within 15 minutes",
    "bazaar_outbox_pending": "notifications waiting for delivery, by channel",
    "bazaar_outbox_oldest_pending_seconds": "age of the oldest notification waiting, by channel",
    "bazaar_outbox_failed": "notifications set aside after their last attempt (dead letters)",
    "bazaar_outbox_delivered_total": "notifications delivered, by channel",
    "bazaar_outbox_retried_total": "delivery attempts that failed for a passing reason, by channel",
    "bazaar_outbox_dead_total": "notifications set aside as undeliverable (dead letters), by channel",
    "bazaar_outbox_delivery_seconds": "time from queued to delivered, by channel",
    "bazaar_rows_inserted_total": "rows inserted into the table since the statistics were reset",
    "bazaar_api_calls_total": "calls of the api function since the statistics were reset",
    "bazaar_api_seconds_total": "seconds spent in the api function since the statistics were reset",
}
INTEGRITY_INTERVAL = 300.0  # seconds between two integrity checks (they read whole tables)
RETRY = 10.0  # seconds before checking again after a check failed


HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def _le(bound: str) -> str:
    """A bucket's bound as prometheus_client's own histograms write it: 60.0, 2.5, +Inf."""
    value = float(bound.replace("+Inf", "inf"))
    return "+Inf" if value == float("inf") else repr(value)


def families(rows: Sequence[tuple[str, dict[str, str], float]]) -> list[Metric]:
    """Metric families from monitoring.marketplace_metrics() rows (name, labels, value). A
    histogram comes as NAME_bucket rows (cumulative, labelled le), NAME_sum and NAME_count."""
    built: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
    histograms: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
    for name, labels, value in rows:
        base = next((name.removesuffix(p) for p in HISTOGRAM_PARTS if name.endswith(p)), name)
        if base != name and base in HELP:
            keys = tuple(str(labels[k]) for k in sorted(labels) if k != "le")
            series = histograms.setdefault(base, {}).setdefault(keys, {"buckets": [], "sum": 0.0})
            if name.endswith("_bucket"):
                series["buckets"].append((_le(str(labels["le"])), float(value)))
            elif name.endswith("_sum"):
                series["sum"] = float(value)
            series["labels"] = sorted(k for k in labels if k != "le")
            continue
        if name not in HELP:
            continue  # a metric the function learned before this exporter: not guessed at
        family: GaugeMetricFamily | CounterMetricFamily | None = built.get(name)
        if family is None:
            if name.endswith("_total"):
                family = CounterMetricFamily(name.removesuffix("_total"), HELP[name], labels=sorted(labels))
            else:
                family = GaugeMetricFamily(name, HELP[name], labels=sorted(labels))
            built[name] = family
        family.add_metric([str(labels[k]) for k in sorted(labels)], float(value))
    result: list[Metric] = list(built.values())
    for base, all_series in histograms.items():
        histogram: HistogramMetricFamily | None = None
        for keys, series in all_series.items():
            if histogram is None:
                histogram = HistogramMetricFamily(base, HELP[base], labels=series["labels"])
            buckets = sorted(series["buckets"], key=lambda b: float(b[0].replace("+Inf", "inf")))
            histogram.add_metric(list(keys), buckets, series["sum"])
        if histogram is not None:
            result.append(histogram)
    return result


class MarketplaceCollector(Collector):
    def __init__(self, dsn: str, replica_dsn: str) -> None:
        self.dsn = dsn
        self.replica_dsn = replica_dsn
        self.integrity: tuple[float, float] | None = None  # (violations, when checked)
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        up = 1.0
        try:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
                rows = conn.execute(
                    "select metric, labels, value from monitoring.marketplace_metrics()"
                ).fetchall()
            yield from families(rows)
        except psycopg.Error as exc:
            up = 0.0
            jsonlog.error("cannot read the marketplace metrics", exc)
        with self._lock:
            integrity = self.integrity
        if integrity is not None:
            yield GaugeMetricFamily(
                "bazaar_integrity_violations",
                "rows breaking an integrity rule (ops.integrity_violations)",
                integrity[0],
            )
            yield GaugeMetricFamily(
                "bazaar_integrity_checked_timestamp_seconds",
                "when the integrity rules were last checked",
                integrity[1],
            )
        yield GaugeMetricFamily("bazaar_exporter_up", "1 when the leader answered this scrape", up)
        yield GaugeMetricFamily(
            "bazaar_exporter_scrape_seconds",
            "how long this scrape's queries took",
            time.perf_counter() - started,
        )

    def check_integrity(self) -> bool:
        """Count the integrity violations on a replica, with a statement_timeout of 5 minutes.
        False when the replica could not be reached (worth trying again soon); a check that ran
        and failed (cut by the timeout, cancelled by replay) waits for the next interval, or a
        slow check would scan the replica's tables back to back. Either way the last good value
        ages: BazaarIntegrityUnchecked watches bazaar_integrity_checked_timestamp_seconds."""
        try:
            conn = psycopg.connect(self.replica_dsn, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            jsonlog.error("cannot reach a replica for the integrity check", exc)
            return False
        try:
            with conn:
                conn.execute("set statement_timeout = '5min'")
                row = conn.execute("select monitoring.integrity_violations()").fetchone()
        except psycopg.Error as exc:
            jsonlog.error("the integrity check failed", exc)
            return True
        violations = float(row[0]) if row else 0.0
        with self._lock:
            self.integrity = (violations, time.time())
        log("info", "integrity checked", violations=violations)
        return True

    def integrity_loop(self, interval: float, stop: threading.Event) -> None:
        """Check every INTERVAL seconds; after a failure (a replica restarting, the stack still
        starting), again in RETRY seconds."""
        while not stop.is_set():
            stop.wait(interval if self.check_integrity() else RETRY)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bazaar-marketplace-exporter", description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--dsn", required=True, help="the leader, as bazaar_monitor, with a passfile")
    parser.add_argument("--replica-dsn", required=True, help="a replica, for the integrity check")
    parser.add_argument("--integrity-interval", type=float, default=INTEGRITY_INTERVAL)
    args = parser.parse_args(argv)
    collector = MarketplaceCollector(args.dsn, args.replica_dsn)
    with serving(collector, args.listen, "marketplace exporter"):
        collector.integrity_loop(args.integrity_interval, threading.Event())
    return 0


if __name__ == "__main__":
    sys.exit(main())
