"""monitoring.marketplace_metrics and monitoring.integrity_violations: what the marketplace
exporter reads as bazaar_monitor; nobody else may call them."""

from __future__ import annotations

import psycopg
import pytest

from tests.sql.conftest import Api, Conn, Listings, User


def metrics(db: Conn) -> dict[tuple[str, str], float]:
    """(metric, labels as text) -> value, read as bazaar_monitor."""
    db.execute("set local role bazaar_monitor")
    try:
        rows = db.execute(
            "select metric, labels::text, value from monitoring.marketplace_metrics()"
        ).fetchall()
    finally:
        db.execute("reset role")
    return {(r[0], r[1]): float(r[2]) for r in rows}


def test_the_queues_the_estimates_and_every_channel_are_there(
    db: Conn, api: Api, listings: Listings, user: User
) -> None:
    pending = listings.create(user)
    api.one("submit_listing", user.token, pending)
    db.execute(
        "update core.listings set status_changed_at = now() - interval '2 hours' where id = %s", [pending]
    )
    db.execute(
        "insert into core.notifications (user_id, channel, kind, payload, failed_at) "
        "values (%s, 'sms', 'test_kind', '{}', now())",
        [user.id],
    )
    got = metrics(db)
    assert got[("bazaar_moderation_queue", "{}")] >= 1
    assert got[("bazaar_moderation_oldest_seconds", "{}")] >= 7200
    assert got[("bazaar_outbox_failed", "{}")] >= 1
    # every channel, waiting or not: an alert on the oldest waiting one must have a series to read
    channels = {labels for name, labels in got if name == "bazaar_outbox_oldest_pending_seconds"}
    assert channels == {'{"channel": "telegram"}', '{"channel": "email"}', '{"channel": "sms"}'}
    # a small table is counted (a big one estimated from the planner's statistics)
    counted = db.execute("select count(*) from core.listings where status = 'pending'").fetchone()
    assert counted is not None and got[("bazaar_listings", '{"status": "pending"}')] == counted[0]
    # inserts per partition, labelled with their table: a dropped partition takes its own series
    inserted = {labels for name, labels in got if name == "bazaar_rows_inserted_total"}
    assert '{"table": "listings", "partition": "listings"}' in inserted
    assert any(
        label.startswith('{"table": "contact_clicks", "partition": "contact_clicks_') for label in inserted
    )


def test_the_integrity_count_is_the_sum_of_the_violations(db: Conn) -> None:
    db.execute("set local role bazaar_monitor")
    row = db.execute("select monitoring.integrity_violations()").fetchone()
    db.execute("reset role")
    expected = db.execute("select coalesce(sum(violations), 0) from ops.integrity_violations()").fetchone()
    assert row is not None and expected is not None and row[0] == expected[0]


@pytest.mark.parametrize("role", ["bazaar_app", "bazaar_worker", "bazaar_analyst"])
@pytest.mark.parametrize(
    "call", ["select * from monitoring.marketplace_metrics()", "select monitoring.integrity_violations()"]
)
def test_only_the_monitor_role_may_read_them(db: Conn, role: str, call: str) -> None:
    db.execute("savepoint refused")
    db.execute(f"set local role {role}".encode())
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute(call.encode())
    db.execute("rollback to savepoint refused")


def test_deliveries_retries_and_dead_letters_are_counted_per_channel_with_their_latency(
    db: Conn, worker: Api, user: User
) -> None:
    before = metrics(db)
    email, sms = '{"channel": "email"}', '{"channel": "sms"}'
    rows = db.execute(
        "insert into core.notifications (user_id, channel, kind, payload, created_at) values "
        "(%(u)s, 'email', 'test_kind', '{}', now() - interval '3 seconds'), "
        "(%(u)s, 'email', 'test_kind', '{}', now() - interval '2 hours'), "
        "(%(u)s, 'sms', 'test_kind', '{}', now()) returning id",
        {"u": user.id},
    ).fetchall()
    worker.rows("claim_notifications", "w1", 10, ["email", "sms"])  # one user's emails one at a time
    worker.rows("ack_notification", rows[0][0], "w1")
    worker.rows("fail_notification", rows[2][0], "w1", "HTTP 502")
    worker.rows("claim_notifications", "w1", 10, ["email", "sms"])  # the sms waits for its retry time
    worker.rows("ack_notification", rows[1][0], "w1")
    db.execute("update core.notifications set next_attempt_at = null where id = %s", [rows[2][0]])
    worker.rows("claim_notifications", "w1", 10, ["sms"])
    worker.rows("fail_notification", rows[2][0], "w1", "HTTP 400: no such number", True)
    after = metrics(db)

    def grew(name: str, labels: str) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("bazaar_outbox_delivered_total", email) == 2
    assert grew("bazaar_outbox_retried_total", sms) == 1 and grew("bazaar_outbox_dead_total", sms) == 1
    assert grew("bazaar_outbox_delivered_total", sms) == 0
    assert grew("bazaar_outbox_delivery_seconds_count", email) == 2
    assert 7203 <= grew("bazaar_outbox_delivery_seconds_sum", email) < 7300

    def bucket(le: str) -> float:
        return grew("bazaar_outbox_delivery_seconds_bucket", f'{{"le": "{le}", "channel": "email"}}')

    # cumulative: 3 s is within le=5; 2 hours only within +Inf
    assert (bucket("2.5"), bucket("5"), bucket("3600"), bucket("+Inf")) == (0, 1, 1, 2)
