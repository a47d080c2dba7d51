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
