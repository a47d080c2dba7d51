"""Monitoring on the running stack: Prometheus scrapes every exporter and Patroni node, every alert
rule evaluates on live data and reads metrics that exist, a stopped exporter is seen and alerted
on, and the backups' textfile metrics arrive. (The rules' logic: promtool tests in
monitoring/prometheus/tests/, run by `make test`.)"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from bazaar.errors import BazaarError
from bazaar.monitoring import prove
from bazaar.stack.layout import NODES, ServerRoot
from bazaar.stack.processes import poll, run
from tests.cluster.conftest import StackUnderTest

EXPECTED_TARGETS = {
    "patroni": len(NODES),
    "etcd": 3,
    "postgres": len(NODES),
    "node": 1,
    "prometheus": 1,
    "alertmanager": 1,
    "bazaar": 1,
    "pgbouncer": 1,
}
# PromQL words that are not metric names
_PROMQL = {
    "sum",
    "count",
    "max",
    "min",
    "by",
    "or",
    "and",
    "on",
    "vector",
    "time",
    "increase",
    "predict_linear",
    "absent",
    "rate",
    "label_replace",
    "offset",
}


def api(stack: StackUnderTest, path: str, **params: str) -> Any:
    """Prometheus's HTTP API (the client the dashboards' proof uses): the data of a success."""
    return prove.Prometheus(f"http://127.0.0.1:{stack.local.ports.prometheus}").get(
        path, list(params.items())
    )


def query(stack: StackUnderTest, promql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = api(stack, "query", query=promql)["result"]
    return result


def targets_by_health(stack: StackUnderTest) -> dict[str, dict[str, str]]:
    """job -> {scrape URL: health} of Prometheus's active targets."""
    jobs: dict[str, dict[str, str]] = {}
    for t in api(stack, "targets")["activeTargets"]:
        jobs.setdefault(t["labels"]["job"], {})[t["scrapeUrl"]] = t["health"]
    return jobs


def metric_names(expr: str) -> set[str]:
    """The metric names an alert expression reads (strings, label matchers, ranges, label lists
    of `by`/`on`/… and numbers taken out first)."""
    for pattern in (
        r'"[^"]*"',
        r"\{[^}]*\}",
        r"\[[^\]]*\]",
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
        r"\b\d+[smhdwy]\b",
        r"\b\d[\d.e+]*\b",
    ):
        expr = re.sub(pattern, " ", expr)
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if w not in _PROMQL}


def test_the_rendered_configuration_is_one_prometheus_accepts(stack: StackUnderTest) -> None:
    conf = ServerRoot(stack.local.server_root()).conf_dir / "prometheus.yml"
    result = run(["promtool", "check", "config", str(conf)], "promtool check config", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 29 rules found" in result.stdout
    conf = conf.with_name("alertmanager.yml")
    result = run(["amtool", "check-config", str(conf)], "amtool check-config", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_every_exporter_and_patroni_node(stack: StackUnderTest) -> None:
    def all_up() -> dict[str, dict[str, str]] | None:
        jobs = targets_by_health(stack)
        healthy = all(h == "up" for targets in jobs.values() for h in targets.values())
        return jobs if healthy and {j: len(t) for j, t in jobs.items()} == EXPECTED_TARGETS else None

    url = f"http://127.0.0.1:{stack.local.ports.prometheus}/alerts"
    assert f"Prometheus (alerts):      {url}" in stack.up_output
    poll(all_up, 90, "every Prometheus target up")
    assert sum(float(s["value"][1]) for s in query(stack, 'patroni_primary{job="patroni"}')) == 1

    def nodes(promql: str) -> set[str]:
        return {s["metric"]["node"] for s in query(stack, promql)}

    # each exporter reaches its node (bazaar_monitor may log in only once `bazaar up` migrated:
    # an exporter's first scrapes can say pg_up 0) and runs the custom queries of queries.yaml
    poll(lambda: nodes('pg_up{job="postgres"} == 1') == set(NODES), 60, "pg_up 1 on every node")
    poll(lambda: nodes("pg_database_xid_age") == set(NODES), 60, "the custom queries on every node")
    assert len(nodes("pg_replica_in_recovery == 1")) == len(NODES) - 1
    # pg_stat_statements is loaded and bazaar_monitor reads it: the leader's top statements
    top = poll(lambda: query(stack, "pg_statements_seconds") or None, 60, "the top statements")
    assert all(s["metric"]["queryid"] and s["metric"]["query"] for s in top)


def test_every_alert_rule_evaluates_and_reads_metrics_that_exist(stack: StackUnderTest) -> None:
    # an application calls the api (through PgBouncer): the api functions' counters exist
    with stack.connect(stack.local.dsn()) as app:
        app.execute("select * from api.categories()").fetchall()

    def evaluated() -> list[dict[str, Any]] | None:
        rules = [r for g in api(stack, "rules")["groups"] for r in g["rules"]]
        done = rules and all(r["lastEvaluation"] > "2000" for r in rules)
        return rules if done else None

    rules = poll(evaluated, 90, "every rule evaluated once")
    assert len(rules) >= 21
    assert [(r["name"], r["lastError"]) for r in rules if r["health"] != "ok"] == []

    # promtool's tests feed the rules invented series; here each metric a rule reads must exist,
    # or the alert could never fire (a renamed exporter metric would silence it)
    def missing() -> set[tuple[str, str]]:
        return {
            (rule["name"], name)
            for rule in rules
            for name in metric_names(rule["query"])
            if not query(stack, f"count({name})")
        }

    # (the textfile metrics arrive with node_exporter's first scrape after `bazaar up` wrote them)
    with contextlib.suppress(BazaarError):
        poll(lambda: not missing(), 60, "every metric the rules read")
    assert missing() == set()


def test_a_stopped_exporter_is_seen_down_and_alerted_on(stack: StackUnderTest) -> None:
    supervisor = stack.cluster().supervisor
    target = f'up{{job="postgres",node="{NODES[-1]}"}}'
    supervisor.ctl("stop", f"postgres-exporter-{NODES[-1]}")
    try:
        poll(lambda: query(stack, f"{target} == 0") or None, 60, "Prometheus to see the exporter down")

        # the alert of this exporter: another target may be briefly down at the same moment (a node
        # an earlier test restarted), and its alert must not be taken for this one
        def pending() -> list[dict[str, Any]] | None:
            alerts = api(stack, "alerts")["alerts"]
            mine = [
                a
                for a in alerts
                if a["labels"]["alertname"] == "BazaarExporterDown" and a["labels"].get("node") == NODES[-1]
            ]
            return mine or None

        alert = poll(pending, 60, "BazaarExporterDown to be pending for the stopped exporter")[0]
        assert alert["labels"]["job"] == "postgres" and alert["state"] in ("pending", "firing")
    finally:
        supervisor.ctl("start", f"postgres-exporter-{NODES[-1]}")
    poll(lambda: query(stack, f"{target} == 1") or None, 60, "the exporter back up")


def test_the_marketplace_exporter_serves_the_marketplace(stack: StackUnderTest) -> None:
    def served() -> list[dict[str, Any]] | None:
        return (
            query(stack, 'bazaar_exporter_up{job="bazaar"} == 1') and query(stack, "bazaar_listings")
        ) or None

    poll(served, 60, "the marketplace metrics in Prometheus")
    channels = {s["metric"]["channel"] for s in query(stack, "bazaar_outbox_oldest_pending_seconds")}
    assert channels == {"telegram", "email", "sms"}
    # the integrity rules were checked on a replica when the exporter started: a sound database
    poll(lambda: query(stack, "bazaar_integrity_violations == 0") or None, 60, "the integrity check")
    # its own cost is a metric (bench/exporter.py measures it at scale; no timing asserted here)
    assert query(stack, 'bazaar_exporter_scrape_seconds{job="bazaar"} > 0')


def test_the_backups_arrive_as_metrics(stack: StackUnderTest) -> None:
    # `bazaar up` took a full backup into each repository and wrote the textfile node_exporter serves
    def present() -> list[dict[str, Any]] | None:
        return query(stack, 'bazaar_backup_last_success_timestamp_seconds{type="full"} > 0') or None

    fulls = poll(present, 60, "the backup metrics in Prometheus")
    assert {s["metric"]["repo"] for s in fulls} == {"1", "2"}
    assert query(stack, "time() - bazaar_backup_metrics_written_timestamp_seconds < 600")


def post(url: str, payload: Any) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 (loopback, our port)
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_an_alert_reaches_every_admin_through_the_outbox_and_a_consequence_is_inhibited(
    stack: StackUnderTest,
) -> None:
    ports = stack.local.ports
    assert api(stack, "alertmanagers")["activeAlertmanagers"]  # Prometheus sends to ours
    with stack.connect(stack.local.admin_dsn()) as conn:
        row = conn.execute(
            "insert into core.users (display_name, email, password_hash, role, notification_channels) "
            "values ('On Call', 'oncall@example.com', '$2b$04$' || repeat('x', 53), 'admin', '{email}') "
            "returning id"
        ).fetchone()
        assert row is not None
        admin = row[0]
        run_id = f"test-{admin}"
        alerts = [
            {"labels": {"alertname": "BazaarNoLeader", "severity": "critical", "run": run_id}},
            {"labels": {"alertname": "BazaarReplicaLagBytes", "severity": "warning", "run": run_id}},
        ]
        for a in alerts:
            a["annotations"] = {"summary": f"drill {a['labels']['alertname']}"}
        status, _ = post(f"http://127.0.0.1:{ports.alertmanager}/api/v2/alerts", alerts)
        assert status == 200
        try:

            def delivered() -> list[tuple[Any, ...]] | None:
                rows = conn.execute(
                    "select channel::text, payload ->> 'alertname', payload ->> 'summary' "
                    "from core.notifications where user_id = %s and kind = 'operator_alert' "
                    "and payload ->> 'summary' like 'drill %%'",  # not a real alert of the moment
                    [admin],
                ).fetchall()
                return rows or None

            # the critical one at once (group_wait 0 s), through the receiver and the outbox
            assert poll(delivered, 60, "the alert in the admin's outbox") == [
                ("email", "BazaarNoLeader", "drill BazaarNoLeader")
            ]
            # the webhook call's request id is on the notification and in the receiver's log line
            row = conn.execute(
                "select request_id from core.notifications where user_id = %s and kind = 'operator_alert'",
                [admin],
            ).fetchone()
            assert row is not None and row[0]
            log = (ServerRoot(stack.local.server_root()).log_dir / "alert-receiver.log").read_text()
            assert f'"request_id": "{row[0]}"' in log

            # without a leader, lag is a consequence: Alertmanager holds it back (inhibit_rules)
            def lag_inhibited() -> bool:
                url = f"http://127.0.0.1:{ports.alertmanager}/api/v2/alerts?filter=run%3D%22{run_id}%22"
                with urllib.request.urlopen(url, timeout=10) as response:
                    state = {a["labels"]["alertname"]: a["status"] for a in json.load(response)}
                lag = state.get("BazaarReplicaLagBytes", {})
                return lag.get("state") == "suppressed" and bool(lag.get("inhibitedBy"))

            poll(lag_inhibited, 30, "the lag alert inhibited by BazaarNoLeader")
        finally:  # end the drill's alerts, so no other test sees them
            ended = datetime.now(UTC).isoformat()
            post(
                f"http://127.0.0.1:{ports.alertmanager}/api/v2/alerts",
                [a | {"endsAt": ended} for a in alerts],
            )
            conn.execute("delete from core.users where id = %s", [admin])


def test_the_receiver_refuses_what_is_not_alertmanagers_webhook(stack: StackUnderTest) -> None:
    url = f"http://127.0.0.1:{stack.local.ports.alert_receiver}/alerts"
    assert post(url, {"alerts": [{"status": "firing", "labels": {"alertname": "Bad name;"}}]})[0] == 400
    assert post(url, {"no": "alerts"})[0] == 400
    assert post(url.replace("/alerts", "/elsewhere"), {})[0] == 404
    log = (ServerRoot(stack.local.server_root()).log_dir / "alert-receiver.log").read_text()
    assert "Bad name;" not in log  # names of refused alerts are not logged; no payload is


def test_pgbouncer_is_exported_and_read_again_after_a_restart(stack: StackUnderTest) -> None:
    url = f"http://127.0.0.1:{stack.local.ports.pgbouncer_exporter}/metrics"

    def scraped() -> str:
        with urllib.request.urlopen(url, timeout=10) as response:
            text: str = response.read().decode()
        return text

    with stack.connect(stack.local.dsn()) as app:  # an application's transaction through the pool
        app.execute("select api.cluster_probe()").fetchone()
    text = scraped()
    assert "pgbouncer_up 1.0" in text
    assert "pgbouncer_config_max_client_connections 5000.0" in text
    served = re.search(r'pgbouncer_stats_sql_transactions_pooled_total\{database="bazaar"\} (\S+)', text)
    assert served and float(served[1]) >= 1
    assert 'pgbouncer_pools_server_active_connections{database="bazaar",user="bazaar_app"}' in text
    # the exporter holds no connection: a restarted PgBouncer is read at the next scrape
    stack.cluster().supervisor.ctl("restart", "pgbouncer")
    poll(lambda: "pgbouncer_up 1.0" in scraped(), 30, "the exporter reading the restarted PgBouncer")
    poll(lambda: query(stack, 'pgbouncer_up{job="pgbouncer"} == 1') or None, 60, "pgbouncer_up in Prometheus")
