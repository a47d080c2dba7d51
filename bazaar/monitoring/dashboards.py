"""The Grafana dashboards, as code: this module is their source, monitoring/grafana/dashboards/*.json
what it writes (Grafana's file provider reads those; docs/adr/0015-dashboards-as-code.md).

    python -m bazaar.monitoring.dashboards          # write the JSON files
    python -m bazaar.monitoring.dashboards --check  # exit 1 when a file differs from this source

Every Prometheus panel selects `cluster="$cluster"` (and `node=~"$node"` where a node is meant),
and reads its data source through the `$datasource` variable; every SQL panel reads
`analytics.*` views through `$analytics` (PostgreSQL as bazaar_analyst, on a replica) within the
dashboard's time range (`$__timeFilter`). tests/cluster/test_dashboards.py runs every query of
every panel on the live stack and fails on one that shows nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bazaar import config

SCHEMA_VERSION = 39  # Grafana 10.4 / 11
PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
ANALYTICS = {"type": "grafana-postgresql-datasource", "uid": "${analytics}"}
# the uids of the provisioned data sources (monitoring/grafana/provisioning/datasources/)
PROMETHEUS_UID = "prometheus"
ANALYTICS_UID = "analytics"
PANEL_TYPES = frozenset({"timeseries", "stat", "table", "bargauge", "row"})
WIDTH = 24  # Grafana's grid


@dataclass(frozen=True)
class PromQL:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Sql:
    sql: str
    table: bool = False  # a table of rows; otherwise a time series (a "time" column)


Query = PromQL | Sql


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # timeseries, stat, table, bargauge
    queries: tuple[Query, ...]
    unit: str = "short"
    width: int = 12
    height: int = 8
    description: str = ""
    thresholds: tuple[tuple[float, str], ...] = ()  # (from, colour) above the base green
    stack: bool = False


@dataclass(frozen=True)
class Row:
    title: str


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    items: tuple[Panel | Row, ...]
    variables: tuple[dict[str, Any], ...]
    time_from: str = "now-6h"
    tags: tuple[str, ...] = field(default=("bazaar",))

    def panels(self) -> list[Panel]:
        return [p for p in self.items if isinstance(p, Panel)]

    def to_json(self) -> dict[str, Any]:
        panels: list[dict[str, Any]] = []
        x = y = line_height = 0
        for n, item in enumerate(self.items, start=1):
            if isinstance(item, Row):
                y += line_height
                x, line_height = 0, 0
                panels.append(_row(n, item, y))
                y += 1
                continue
            if x + item.width > WIDTH:
                x, y, line_height = 0, y + line_height, 0
            panels.append(_panel(n, item, {"x": x, "y": y, "w": item.width, "h": item.height}))
            x += item.width
            line_height = max(line_height, item.height)
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "timezone": "utc",
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "refresh": "30s",
            "time": {"from": self.time_from, "to": "now"},
            "templating": {"list": list(self.variables)},
            "annotations": {"list": []},
            "links": [{"type": "dashboards", "tags": ["bazaar"], "asDropdown": True, "title": "bazaar"}],
            "panels": panels,
        }


def _row(n: int, row: Row, y: int) -> dict[str, Any]:
    return {
        "id": n,
        "type": "row",
        "title": row.title,
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": WIDTH, "h": 1},
        "panels": [],
    }


def _target(ref: str, query: Query, kind: str) -> dict[str, Any]:
    if isinstance(query, PromQL):
        target: dict[str, Any] = {
            "refId": ref,
            "datasource": PROMETHEUS,
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "range": kind == "timeseries",
            "instant": kind != "timeseries",
        }
        if kind == "table":
            target["format"] = "table"
        return target
    return {
        "refId": ref,
        "datasource": ANALYTICS,
        "editorMode": "code",
        "rawQuery": True,
        "rawSql": query.sql,
        "format": "table" if query.table else "time_series",
    }


def _panel(n: int, panel: Panel, grid: dict[str, int]) -> dict[str, Any]:
    datasource = PROMETHEUS if isinstance(panel.queries[0], PromQL) else ANALYTICS
    steps = [{"color": "green", "value": None}] + [{"color": c, "value": v} for v, c in panel.thresholds]
    defaults: dict[str, Any] = {
        "unit": panel.unit,
        "thresholds": {"mode": "absolute", "steps": steps},
        "color": {"mode": "thresholds" if panel.thresholds else "palette-classic"},
    }
    options: dict[str, Any]
    reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 20 if panel.stack else 10,
            "showPoints": "never",
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
        }
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "stat":
        options = {
            "reduceOptions": reduce,
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
            "orientation": "auto",
            "justifyMode": "auto",
        }
    elif panel.kind == "bargauge":
        options = {"reduceOptions": reduce, "displayMode": "gradient", "orientation": "horizontal"}
    else:  # table
        options = {"showHeader": True, "cellHeight": "sm"}
    return {
        "id": n,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": datasource,
        "gridPos": grid,
        "targets": [_target(chr(ord("A") + i), q, panel.kind) for i, q in enumerate(panel.queries)],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
    }


# --- variables ------------------------------------------------------------------------------------


def _datasource(name: str, label: str, plugin: str, uid: str) -> dict[str, Any]:
    return {
        "type": "datasource",
        "name": name,
        "label": label,
        "query": plugin,
        "current": {"text": uid, "value": uid},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def _label_values(name: str, label: str, query: str, multi: bool = False) -> dict[str, Any]:
    variable = {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": PROMETHEUS,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "refresh": 2,  # on a time range change: members come and go
        "sort": 1,
        "hide": 0,
        "multi": multi,
        "includeAll": multi,
        "current": {},
        "options": [],
    }
    return variable


DATASOURCE = _datasource("datasource", "Prometheus", "prometheus", PROMETHEUS_UID)
ANALYTICS_SOURCE = _datasource(
    "analytics", "Analytics (PostgreSQL)", "grafana-postgresql-datasource", ANALYTICS_UID
)
CLUSTER = _label_values("cluster", "cluster", 'label_values(up{job="patroni"}, cluster)')
NODE = _label_values("node", "node", 'label_values(pg_up{cluster="$cluster"}, node)', multi=True)
KIND = {
    "type": "custom",
    "name": "kind",
    "label": "listing kind",
    "query": "car,part,service",
    "multi": True,
    "includeAll": True,
    "current": {"text": ["All"], "value": ["$__all"]},
    "options": [],
    "hide": 0,
}

C = 'cluster="$cluster"'
CN = 'cluster="$cluster", node=~"$node"'
DB = CN + ', datname="bazaar"'  # postgres_exporter's per-database series of the marketplace
POOLED = C + ', database!="pgbouncer"'  # PgBouncer's pools but its own console
DISKS = C + ', fstype!~"tmpfs|ramfs"'  # node_exporter's file systems on disk


def rate(metric: str, selector: str) -> str:
    return f"rate({metric}{{{selector}}}[$__rate_interval])"


# --- the dashboards ---------------------------------------------------------------------------------

CLUSTER_OVERVIEW = Dashboard(
    uid="bazaar-cluster",
    title="Bazaar / Cluster overview",
    description="Patroni's view of the three nodes: who leads, who follows and how far behind, "
    "timeline changes (failovers, switchovers) and WAL archiving.",
    variables=(DATASOURCE, CLUSTER, NODE),
    items=(
        Row("Members"),
        Panel("Leader", "stat", (PromQL(f"patroni_primary{{{C}}} == 1", "{{name}}"),), width=6, height=4),
        Panel(
            "Members running",
            "stat",
            (PromQL(f"sum(patroni_postgres_running{{{C}}})"),),
            width=6,
            height=4,
            thresholds=((0, "red"), (2, "orange"), (3, "green")),
        ),
        Panel(
            "Synchronous standbys",
            "stat",
            (PromQL(f"sum(patroni_sync_standby{{{C}}})"),),
            width=6,
            height=4,
            thresholds=((0, "red"), (1, "green")),
        ),
        Panel("Timeline", "stat", (PromQL(f"max(patroni_postgres_timeline{{{C}}})"),), width=6, height=4),
        Panel(
            "Role of each member",
            "timeseries",
            (PromQL(f"patroni_primary{{{C}}}", "{{name}} leader"),),
            description="1 while the member leads: a step is a failover or a switchover.",
        ),
        Panel(
            "Timeline changes in the range (failovers and switchovers)",
            "timeseries",
            (PromQL(f"changes(max(patroni_postgres_timeline{{{C}}})[$__range:1m])", "timeline changes"),),
        ),
        Row("Replication"),
        Panel(
            "WAL not yet replayed by each standby",
            "timeseries",
            (
                PromQL(
                    f"max by (application_name) (pg_stat_replication_pg_wal_lsn_diff{{{C}}})",
                    "{{application_name}}",
                ),
            ),
            unit="bytes",
            thresholds=((64 * 1024 * 1024, "red"),),
        ),
        Panel(
            "Replay delay",
            "timeseries",
            (PromQL(f"pg_replica_replay_delay_seconds{{{CN}}}", "{{node}}"),),
            unit="s",
            thresholds=((60, "red"),),
        ),
        Row("WAL archiving"),
        Panel(
            "WAL segments archived and failed per minute",
            "timeseries",
            (
                PromQL(
                    f"60 * rate(pg_stat_archiver_archived_count{{{CN}}}[$__rate_interval])",
                    "{{node}} archived",
                ),
                PromQL(
                    f"60 * rate(pg_stat_archiver_failed_count{{{CN}}}[$__rate_interval])", "{{node}} failed"
                ),
            ),
        ),
        Panel(
            "Time since the leader archived a segment",
            "stat",
            (
                PromQL(
                    f"min(pg_stat_archiver_last_archive_age{{{C}}} and on (node) pg_replica_in_recovery == 0)"
                ),
            ),
            unit="s",
            thresholds=((600, "orange"), (3600, "red")),
            description="archive_timeout is 60 s: an idle leader still archives a segment a minute.",
        ),
    ),
)

POSTGRES = Dashboard(
    uid="bazaar-postgres",
    title="Bazaar / PostgreSQL golden signals",
    description="Traffic, latency, errors and saturation of PostgreSQL and PgBouncer, per node.",
    variables=(DATASOURCE, CLUSTER, NODE),
    items=(
        Row("Traffic"),
        Panel(
            "Transactions per second",
            "timeseries",
            (
                PromQL(
                    f"sum by (node) ({rate('pg_stat_database_xact_commit', DB)}"
                    f" + {rate('pg_stat_database_xact_rollback', DB)})",
                    "{{node}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Calls per api function",
            "timeseries",
            (
                PromQL(
                    f"sum by (function) (rate(bazaar_api_calls_total{{{C}}}[$__rate_interval]))",
                    "{{function}}",
                ),
            ),
            unit="ops",
            description="From pg_stat_user_functions on the leader (track_functions = all).",
        ),
        Panel(
            "Transactions through PgBouncer per second",
            "timeseries",
            (
                PromQL(
                    f"sum by (database) ({rate('pgbouncer_stats_sql_transactions_pooled_total', POOLED)})",
                    "{{database}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Rows written per second",
            "timeseries",
            (
                PromQL(
                    f"sum by (node) ({rate('pg_stat_database_tup_inserted', DB)})",
                    "{{node}} inserted",
                ),
                PromQL(
                    f"sum by (node) ({rate('pg_stat_database_tup_updated', DB)})",
                    "{{node}} updated",
                ),
            ),
            unit="ops",
        ),
        Row("Latency"),
        Panel(
            "Mean time per call of each api function",
            "timeseries",
            (
                PromQL(
                    f"sum by (function) (rate(bazaar_api_seconds_total{{{C}}}[$__rate_interval])) / "
                    f"sum by (function) (rate(bazaar_api_calls_total{{{C}}}[$__rate_interval]) > 0)",
                    "{{function}}",
                ),
            ),
            unit="s",
            thresholds=((0.5, "red"),),
        ),
        Panel(
            "Mean query time through PgBouncer",
            "timeseries",
            (
                PromQL(
                    f"sum by (database) ({rate('pgbouncer_stats_queries_duration_seconds_total', POOLED)})"
                    f" / sum by (database) ({rate('pgbouncer_stats_queries_pooled_total', POOLED)} > 0)",
                    "{{database}} query",
                ),
                PromQL(
                    f"max by (database) (pgbouncer_pools_client_maxwait_seconds{{{C}}})",
                    "{{database}} longest wait for a server",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Statements that took the most time (pg_stat_statements)",
            "table",
            (
                PromQL(
                    f"topk(10, pg_statements_seconds{{{CN}}} / (pg_statements_calls{{{CN}}} > 0))",
                    "{{query}}",
                ),
            ),
            unit="s",
            width=24,
            description="Mean seconds per call of the statements that took the most time in total, "
            "normalised (constants are $1, never values).",
        ),
        Row("Errors"),
        Panel(
            "Rollbacks per second",
            "timeseries",
            (
                PromQL(
                    f"sum by (node) ({rate('pg_stat_database_xact_rollback', DB)})",
                    "{{node}}",
                ),
            ),
            unit="ops",
            description="Every api error rolls its transaction back.",
        ),
        Panel(
            "Share of transactions rolled back (the api's error rate)",
            "timeseries",
            (PromQL(f"bazaar:xact_rollback_ratio:rate5m{{{CN}}}", "{{node}}"),),
            unit="percentunit",
            thresholds=((0.1, "red"),),
            description="The recording rule BazaarErrorRateHigh reads: over 10% for 10 minutes fires it.",
        ),
        Panel(
            "Deadlocks and replica conflicts per minute",
            "timeseries",
            (
                PromQL(
                    f"60 * sum by (node) ({rate('pg_stat_database_deadlocks', DB)})",
                    "{{node}} deadlocks",
                ),
                PromQL(
                    f"60 * sum by (node) ({rate('pg_stat_database_conflicts', DB)})",
                    "{{node}} conflicts",
                ),
            ),
        ),
        Row("Saturation"),
        Panel(
            "Connections used of max_connections",
            "timeseries",
            (
                PromQL(
                    f"sum by (node) (pg_stat_activity_count{{{CN}}})"
                    f" / max by (node) (pg_settings_max_connections{{{CN}}})",
                    "{{node}}",
                ),
            ),
            unit="percentunit",
            thresholds=((0.8, "red"),),
        ),
        Panel(
            "PgBouncer clients: active and waiting",
            "timeseries",
            (
                PromQL(
                    f"sum by (database) (pgbouncer_pools_client_active_connections{{{POOLED}}})",
                    "{{database}} active",
                ),
                PromQL(
                    f"sum by (database) (pgbouncer_pools_client_waiting_connections{{{POOLED}}})",
                    "{{database}} waiting",
                ),
                PromQL(f"max(pgbouncer_config_max_client_connections{{{C}}})", "max_client_conn"),
            ),
        ),
        Panel(
            "Locks held",
            "timeseries",
            (PromQL(f'sum by (mode) (pg_locks_count{{{CN}, datname="bazaar"}})', "{{mode}}"),),
        ),
        Panel(
            "CPU busy and memory used (host)",
            "timeseries",
            (
                PromQL(f'1 - avg(rate(node_cpu_seconds_total{{{C}, mode="idle"}}[$__rate_interval]))', "CPU"),
                PromQL(
                    f"1 - node_memory_MemAvailable_bytes{{{C}}} / node_memory_MemTotal_bytes{{{C}}}", "memory"
                ),
            ),
            unit="percentunit",
        ),
        Panel(
            "Disk used (file systems of the data directories)",
            "timeseries",
            (
                PromQL(
                    f"1 - node_filesystem_avail_bytes{{{DISKS}}} / node_filesystem_size_bytes{{{DISKS}}}",
                    "{{mountpoint}}",
                ),
            ),
            unit="percentunit",
            thresholds=((0.8, "orange"), (0.9, "red")),
        ),
        Panel(
            "Database size and the largest partitions",
            "timeseries",
            (
                PromQL(f'pg_database_size_bytes{{{CN}, datname="bazaar"}}', "{{node}} database"),
                PromQL(f"topk(5, max by (partition) (pg_partition_bytes{{{CN}}}))", "{{partition}}"),
            ),
            unit="bytes",
        ),
        Panel(
            "Dead tuples and transaction-id age",
            "timeseries",
            (
                PromQL(
                    f"topk(5, max by (relname) (pg_table_vacuum_dead_tuples{{{CN}}}))",
                    "{{relname}} dead tuples",
                ),
                PromQL(f'max(pg_database_xid_age{{{CN}, datname="bazaar"}})', "xid age"),
            ),
        ),
    ),
)

BACKUPS = Dashboard(
    uid="bazaar-backups",
    title="Bazaar / Backups",
    description="pgBackRest: the newest good backup of each type per repository, its duration and "
    "size, the last verified restore drill, and WAL archiving.",
    variables=(DATASOURCE, CLUSTER, NODE),
    time_from="now-7d",
    items=(
        Panel(
            "Age of the newest good backup",
            "stat",
            (
                PromQL(
                    f"time() - bazaar_backup_last_success_timestamp_seconds{{{C}}}", "repo {{repo}} {{type}}"
                ),
            ),
            unit="s",
            width=12,
            thresholds=((8 * 3600, "red"),),
        ),
        Panel(
            "Age of the last verified restore drill",
            "stat",
            (PromQL(f"time() - bazaar_backup_last_verified_timestamp_seconds{{{C}}}", "repo {{repo}}"),),
            unit="s",
            width=12,
            thresholds=((8 * 86400, "red"),),
        ),
        Panel(
            "Duration of the newest backup",
            "timeseries",
            (PromQL(f"bazaar_backup_last_duration_seconds{{{C}}}", "repo {{repo}} {{type}}"),),
            unit="s",
        ),
        Panel(
            "Repository size",
            "timeseries",
            (PromQL(f"bazaar_backup_last_repository_bytes{{{C}}}", "repo {{repo}}"),),
            unit="bytes",
        ),
        Panel(
            "WAL segments archived per minute",
            "timeseries",
            (
                PromQL(
                    f"60 * sum by (node) (rate(pg_stat_archiver_archived_count{{{CN}}}[$__rate_interval]))",
                    "{{node}}",
                ),
            ),
        ),
        Panel(
            "Age of the backup metrics (the scheduler writes them every tick)",
            "stat",
            (PromQL(f"time() - bazaar_backup_metrics_written_timestamp_seconds{{{C}}}"),),
            unit="s",
            thresholds=((600, "red"),),
        ),
    ),
)

MARKETPLACE = Dashboard(
    uid="bazaar-marketplace",
    title="Bazaar / Marketplace",
    description="For analysts: listings, moderation, orders and revenue, contact clicks, reviews and "
    "the notification outbox. Live figures from the marketplace exporter; history from the "
    "analytics views (PostgreSQL, as bazaar_analyst on a replica), by day in UTC.",
    variables=(DATASOURCE, ANALYTICS_SOURCE, CLUSTER, KIND),
    time_from="now-30d",
    items=(
        Row("Now"),
        Panel(
            "Listings by status",
            "bargauge",
            (PromQL(f"sum by (status) (bazaar_listings{{{C}}})", "{{status}}"),),
            width=8,
        ),
        Panel(
            "Moderation queue and its oldest listing",
            "stat",
            (
                PromQL(f"max(bazaar_moderation_queue{{{C}}})", "waiting"),
                PromQL(f"max(bazaar_moderation_oldest_seconds{{{C}}}) / 3600", "oldest (hours)"),
            ),
            width=8,
        ),
        Panel(
            "Orders by status",
            "bargauge",
            (PromQL(f"sum by (status) (bazaar_orders{{{C}}})", "{{status}}"),),
            width=8,
        ),
        Panel(
            "New listings and contact clicks per minute",
            "timeseries",
            (
                PromQL(
                    f"""60 * sum({rate("bazaar_rows_inserted_total", C + ', table="listings"')})""",
                    "new listings",
                ),
                PromQL(
                    f"""60 * sum({rate("bazaar_rows_inserted_total", C + ', table="contact_clicks"')})""",
                    "contact clicks",
                ),
                PromQL(
                    f"""60 * sum({rate("bazaar_rows_inserted_total", C + ', table="orders"')})""",
                    "orders",
                ),
            ),
        ),
        Panel(
            "Outbox: waiting per channel, dead letters",
            "timeseries",
            (
                PromQL(f"max by (channel) (bazaar_outbox_pending{{{C}}})", "{{channel}} waiting"),
                PromQL(f"max(bazaar_outbox_failed{{{C}}})", "dead letters"),
                PromQL(
                    f"max(bazaar_reservations_expiring_soon{{{C}}})", "reservations lapsing within 15 min"
                ),
            ),
        ),
        Panel(
            "Deliveries per minute by channel: delivered, retried, set aside",
            "timeseries",
            (
                PromQL(
                    f"60 * max by (channel) ({rate('bazaar_outbox_delivered_total', C)})",
                    "{{channel}} delivered",
                ),
                PromQL(
                    f"60 * max by (channel) ({rate('bazaar_outbox_retried_total', C)})", "{{channel}} retried"
                ),
                PromQL(
                    f"60 * max by (channel) ({rate('bazaar_outbox_dead_total', C)})", "{{channel}} set aside"
                ),
            ),
            description=(
                "From the outbox's own reports (delivery workers); a dead letter waits in "
                "`bazaar outbox dead-letters`."
            ),
        ),
        Panel(
            "Queued to delivered, by channel (p50, p95)",
            "timeseries",
            tuple(
                PromQL(
                    f"histogram_quantile({q}, max by (channel, le) "
                    f"({rate('bazaar_outbox_delivery_seconds_bucket', C)}))",
                    f"{{{{channel}}}} p{round(q * 100)}",
                )
                for q in (0.5, 0.95)
            ),
            unit="s",
            description="Includes the waits of retries: a notification retried for an hour counts an hour.",
        ),
        Row("Listings"),
        Panel(
            "New listings per day",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time", kind as metric, sum(listings) as listings\n'
                    "from analytics.new_listings_daily\n"
                    "where $__timeFilter(day) and kind in ($kind)\n"
                    "group by 1, 2 order by 1"
                ),
            ),
            stack=True,
        ),
        Panel(
            "New listings by category",
            "table",
            (
                Sql(
                    "select category, kind, sum(listings) as listings\n"
                    "from analytics.new_listings_daily\n"
                    "where $__timeFilter(day) and kind in ($kind)\n"
                    "group by 1, 2 order by 3 desc limit 20",
                    table=True,
                ),
            ),
        ),
        Panel(
            "Listings on sale by region",
            "table",
            (
                Sql(
                    "select region, sum(listings) as listings,\n"
                    "    round(avg(average_price), 2) as average_price\n"
                    "from analytics.active_listings\n"
                    "where kind in ($kind)\n"
                    "group by 1 order by 2 desc limit 20",
                    table=True,
                ),
            ),
        ),
        Panel(
            "Moderation per day: submitted, approved, rejected",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time", submitted, approved, rejected\n'
                    "from analytics.moderation_daily\n"
                    "where $__timeFilter(day) order by 1"
                ),
            ),
        ),
        Panel(
            "Moderation wait per day (median and longest)",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time",\n'
                    "    median_wait_seconds as median, longest_wait_seconds as longest\n"
                    "from analytics.moderation_daily\n"
                    "where $__timeFilter(day) and median_wait_seconds is not null order by 1"
                ),
            ),
            unit="s",
        ),
        Row("Orders and revenue"),
        Panel(
            "Orders per day by status",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time", status as metric, sum(orders) as orders\n'
                    "from analytics.orders_daily\n"
                    "where $__timeFilter(day) group by 1, 2 order by 1"
                ),
            ),
            stack=True,
        ),
        Panel(
            "Revenue per day (paid orders)",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time", currency as metric, sum(amount) as revenue\n'
                    "from analytics.orders_daily\n"
                    "where $__timeFilter(day) and status = 'paid' group by 1, 2 order by 1"
                ),
            ),
        ),
        Row("Engagement"),
        Panel(
            "Contact clicks per day",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time", kind as metric, sum(clicks) as clicks\n'
                    "from analytics.contact_clicks_daily\n"
                    "where $__timeFilter(day) and kind in ($kind) group by 1, 2 order by 1"
                ),
            ),
            stack=True,
        ),
        Panel(
            "Reviews per day and their average rating",
            "timeseries",
            (
                Sql(
                    'select day::timestamptz as "time", sum(reviews) as reviews,\n'
                    "    round(sum(rating * reviews)::numeric / sum(reviews), 2) as average_rating\n"
                    "from analytics.reviews_daily\n"
                    "where $__timeFilter(day) group by 1 order by 1"
                ),
            ),
        ),
        Panel(
            "Best rated sellers",
            "table",
            (
                Sql(
                    "select seller_id, reviews, average_rating, last_review_at\n"
                    "from analytics.seller_ratings\n"
                    "where reviews >= 3 order by average_rating desc, reviews desc limit 20",
                    table=True,
                ),
            ),
        ),
        Row("Notifications"),
        Panel(
            "Notifications per day by channel: queued, delivered, failed",
            "table",
            (
                Sql(
                    "select channel, sum(queued) as queued, sum(delivered) as delivered,\n"
                    "    sum(failed) as failed, round(percentile_cont(0.5)\n"
                    "        within group (order by median_delivery_seconds)::numeric, 1)\n"
                    "        as median_delivery_seconds\n"
                    "from analytics.outbox_daily\n"
                    "where $__timeFilter(day) group by 1 order by 2 desc",
                    table=True,
                ),
            ),
            width=24,
        ),
    ),
)

DASHBOARDS = (CLUSTER_OVERVIEW, POSTGRES, BACKUPS, MARKETPLACE)


def directory() -> Path:
    return config.project_root() / "monitoring" / "grafana" / "dashboards"


def rendered(dashboard: Dashboard) -> str:
    return json.dumps(dashboard.to_json(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bazaar.monitoring.dashboards", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    for dashboard in DASHBOARDS:
        path = directory() / f"{dashboard.uid}.json"
        text = rendered(dashboard)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"stale dashboards (run python -m bazaar.monitoring.dashboards): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
