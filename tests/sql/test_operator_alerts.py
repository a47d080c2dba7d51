"""api.queue_operator_alerts: what Alertmanager's webhook receiver hands over reaches every admin
through the outbox; malformed alerts are refused whole; only the worker role may call it."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg.types.json import Jsonb

from tests.sql.conftest import Api, Conn, MakeUser, User

SUMMARY = "no PostgreSQL leader: writes fail"


def alert(name: str = "BazaarNoLeader", status: str = "firing", **labels: Any) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {
            "summary": SUMMARY,
            "runbook_url": "docs/runbooks/alerts.md",
        },
        "startsAt": "2026-11-30T02:00:00Z",
    }


def queued(db: Conn) -> list[tuple[int, str, dict[str, Any]]]:
    rows = db.execute(
        "select user_id, channel::text, payload from core.notifications "
        "where kind = 'operator_alert' order by id"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


@pytest.fixture
def admins(db: Conn, make_user: MakeUser) -> list[User]:
    on_call = [make_user("On Call", role="admin"), make_user("Second", role="admin")]
    make_user("Moderator", role="moderator")
    db.execute("update core.users set notification_channels = '{email}' where role <> 'user'")
    return on_call


def test_every_admin_gets_each_alert_on_their_channels(worker: Api, db: Conn, admins: list[User]) -> None:
    blocked = admins[1]
    db.execute(
        "update core.users set blocked_at = now(), blocked_reason = 'left' where id = %s", [blocked.id]
    )
    count = worker.one(
        "queue_operator_alerts", Jsonb([alert(node="node2"), alert("BazaarMemberDown", "resolved")])
    )
    rows = [r for r in queued(db) if r[0] in {a.id for a in admins}]
    assert count == len(rows) == 2  # one admin (the other is blocked), two alerts, one channel
    assert {r[0] for r in rows} == {admins[0].id} and {r[1] for r in rows} == {"email"}
    first = rows[0][2]
    assert first == {
        "status": "firing",
        "alertname": "BazaarNoLeader",
        "severity": "critical",
        "node": "node2",
        "summary": SUMMARY,
        "runbook_url": "docs/runbooks/alerts.md",
        "starts_at": "2026-11-30T02:00:00Z",
    }
    assert rows[1][2]["status"] == "resolved"


@pytest.mark.parametrize(
    "alerts",
    [
        None,
        {"status": "firing"},
        [],
        [alert()] * 51,
        ["firing"],
        [{"status": "firing"}],
        [alert(status="pending")],
        [alert(name="")],
        [alert(name="x" * 101)],
        [alert(name="Bad name; drop")],
        [{**alert(), "labels": {"alertname": 5}}],
        [alert(), {**alert(), "annotations": {"summary": ["not", "text"]}}],
        [{**alert(), "annotations": {"summary": "x", "runbook_url": "https://evil.example/phish"}}],
    ],
)
def test_malformed_alerts_are_refused_whole(worker: Api, db: Conn, admins: list[User], alerts: Any) -> None:
    worker.fails("22023", "queue_operator_alerts", None if alerts is None else Jsonb(alerts))
    assert queued(db) == []


def test_only_the_worker_role_may_queue_them(api: Api, admins: list[User]) -> None:
    api.fails("42501", "queue_operator_alerts", Jsonb([alert()]))
