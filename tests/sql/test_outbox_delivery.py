"""What a delivery worker records around each external call (V0025): sending before it, the
provider's message id after it, a failure that may pass (backoff, the user's later rows waiting
behind it) or may not (set aside at once), and the dead letters an operator lists, reads and
puts back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.sql.conftest import Api, Conn, User

WORKER = "worker-test"


@pytest.fixture
def quiet_outbox(db: Conn) -> None:
    """Only this test's notifications are pending."""
    db.execute("update core.notifications set delivered_at = now() where delivered_at is null")


def queue(db: Conn, user: User, *kinds: str, channel: str = "email") -> None:
    db.execute("update core.users set notification_channels = %s where id = %s", [[channel], user.id])
    for kind in kinds:
        db.execute('select core.notify(%s, %s, \'{"code": "123456", "order_id": 7}\')', [user.id, kind])


def claimed(worker: Api, user: User) -> list[tuple[Any, ...]]:
    return [r for r in worker.rows("claim_notifications", WORKER, 100) if r[1] == user.id]


def row(db: Conn, notification_id: int) -> dict[str, Any]:
    cur = db.execute(
        "select sending_at, next_attempt_at, last_error, provider_message_id, delivered_at, failed_at, "
        "attempts, claimed_until from core.notifications where id = %s",
        [notification_id],
    )
    names = [c.name for c in cur.description or ()]
    found = cur.fetchone()
    assert found is not None
    return dict(zip(names, found, strict=True))


@pytest.mark.usefixtures("quiet_outbox")
def test_sending_then_delivered_with_the_providers_message_id(worker: Api, db: Conn, user: User) -> None:
    queue(db, user, "order_created")
    [(notification_id, *_)] = claimed(worker, user)
    assert worker.one("sending_notification", notification_id, WORKER) is False
    assert row(db, notification_id)["sending_at"] is not None
    worker.rows("ack_notification", notification_id, WORKER, "<msg-1@bazaar>")
    stored = row(db, notification_id)
    assert stored["provider_message_id"] == "<msg-1@bazaar>" and stored["delivered_at"] is not None
    worker.rows("ack_notification", notification_id, WORKER, "<msg-1@bazaar>")  # twice is harmless
    worker.fails("55000", "sending_notification", notification_id, WORKER)  # already delivered


@pytest.mark.usefixtures("quiet_outbox")
def test_a_lease_that_ran_out_after_sending_is_a_possible_duplicate(
    worker: Api, db: Conn, user: User
) -> None:
    queue(db, user, "order_created")
    [(notification_id, *_)] = claimed(worker, user)
    worker.one("sending_notification", notification_id, WORKER)
    db.execute("update core.notifications set claimed_until = now() - interval '1 second' where id = %s",
               [notification_id])  # fmt: skip
    [(again, *_)] = claimed(worker, user)  # the worker died mid-call: the row is handed out again
    assert again == notification_id
    assert worker.one("sending_notification", notification_id, WORKER) is True


@pytest.mark.usefixtures("quiet_outbox")
def test_a_failure_that_may_pass_backs_off_and_holds_the_users_later_rows(
    worker: Api, db: Conn, user: User
) -> None:
    db.execute("update core.settings set value = '\"10 seconds\"' where key = 'outbox_retry_base'")
    queue(db, user, "first", "second")
    [(first, *_)] = claimed(worker, user)
    assert worker.one("fail_notification", first, WORKER, "  HTTP 502:\n bad   gateway ") == "retry"
    stored = row(db, first)
    assert stored["last_error"] == "HTTP 502: bad gateway" and stored["claimed_until"] is None
    waited = db.execute("select next_attempt_at - now() from core.notifications where id = %s", [first])
    assert waited.fetchone() == (timedelta(seconds=10),)
    assert claimed(worker, user) == []  # neither it (backing off) nor the second (behind it)
    db.execute("update core.notifications set next_attempt_at = now() where id = %s", [first])
    assert [r[0] for r in claimed(worker, user)] == [first]
    # the second failure waits twice as long, and a provider's longer retry_after wins
    assert worker.one("fail_notification", first, WORKER, "HTTP 502") == "retry"
    assert db.execute("select next_attempt_at - now() from core.notifications where id = %s",
                      [first]).fetchone() == (timedelta(seconds=20),)  # fmt: skip
    db.execute("update core.notifications set next_attempt_at = now() where id = %s", [first])
    claimed(worker, user)
    worker.one("fail_notification", first, WORKER, "HTTP 429: retry after 90", False, 90)
    assert db.execute("select next_attempt_at - now() from core.notifications where id = %s",
                      [first]).fetchone() == (timedelta(seconds=90),)  # fmt: skip


@pytest.mark.usefixtures("quiet_outbox")
def test_a_permanent_failure_is_a_dead_letter_at_once_and_can_be_put_back(
    worker: Api, db: Conn, user: User
) -> None:
    queue(db, user, "first", "second")
    [(first, *_)] = claimed(worker, user)
    worker.one("sending_notification", first, WORKER)
    assert (
        worker.one("fail_notification", first, WORKER, "HTTP 403: bot was blocked by the user", True)
        == "dead"
    )
    assert row(db, first)["sending_at"] is None  # known not delivered: no duplicate to fear
    assert [r[3] for r in claimed(worker, user)] == ["second"]  # no longer held back
    letters = worker.rows("dead_letters", 10, None)
    assert [(r[0], r[3], r[5]) for r in letters] == [
        (first, "first", "HTTP 403: bot was blocked by the user")
    ]
    letter = worker.rows("dead_letter", first)[0]
    assert letter[4] == {"order_id": 7}  # the one-time code is not shown
    worker.rows("retry_dead_letter", first)
    assert row(db, first)["failed_at"] is None and row(db, first)["attempts"] == 0
    worker.fails("P0002", "retry_dead_letter", first)  # no longer a dead letter
    worker.fails("P0002", "dead_letter", first)


@pytest.mark.usefixtures("quiet_outbox")
def test_the_last_allowed_attempt_that_fails_is_set_aside(worker: Api, db: Conn, user: User) -> None:
    db.execute("update core.settings set value = '1' where key = 'outbox_max_attempts'")
    queue(db, user, "only")
    [(only, *_)] = claimed(worker, user)
    assert worker.one("fail_notification", only, WORKER, "timeout after 10 s") == "dead"


@pytest.mark.usefixtures("quiet_outbox")
def test_delivery_reports_refuse_bad_arguments(api: Api, worker: Api, db: Conn, user: User) -> None:
    queue(db, user, "order_created")
    [(notification_id, *_)] = claimed(worker, user)
    worker.fails("22023", "fail_notification", notification_id, WORKER, " ")
    worker.fails("22023", "fail_notification", notification_id, WORKER, None)
    worker.fails("22023", "fail_notification", notification_id, WORKER, "x" * 2001)
    worker.fails("22023", "fail_notification", notification_id, WORKER, "x", False, -1)
    worker.fails("22023", "fail_notification", notification_id, WORKER, "x", False, 86401)
    worker.fails("55000", "fail_notification", notification_id, "another-worker", "x")
    worker.fails("55000", "sending_notification", notification_id, "another-worker")
    worker.fails("P0002", "fail_notification", 10**12, WORKER, "x")
    worker.fails("P0002", "sending_notification", 10**12, WORKER)
    worker.fails("22023", "ack_notification", notification_id, WORKER, "m" * 201)
    worker.fails("22023", "dead_letters", 0, None)
    worker.fails("22023", "dead_letters", None, None)
    worker.fails("P0002", "dead_letter", 10**12)
    worker.fails("P0002", "retry_dead_letter", 10**12)
    assert len(worker.one("fail_notification", notification_id, WORKER, "é" * 600)) == 5  # "retry"
    assert row(db, notification_id)["last_error"] == "é" * 500
    for function, args in (
        ("sending_notification", (notification_id, "app")),
        ("fail_notification", (notification_id, "app", "x")),
        ("dead_letters", (10, None)),
        ("retry_dead_letter", (notification_id,)),
    ):
        api.fails("42501", function, *args)  # applications never reach the outbox


@pytest.mark.usefixtures("quiet_outbox")
def test_a_worker_claims_only_the_channels_it_can_deliver(worker: Api, db: Conn, user: User) -> None:
    queue(db, user, "by_email")
    queue(db, user, "by_sms", channel="sms")
    rows = [r for r in worker.rows("claim_notifications", WORKER, 100, ["sms"]) if r[1] == user.id]
    assert [(r[2], r[3]) for r in rows] == [("sms", "by_sms")]
    worker.fails("22023", "claim_notifications", WORKER, 100, ["pigeon"])
    worker.fails("22023", "claim_notifications", WORKER, 100, [])
    worker.fails("22023", "claim_notifications", WORKER, 100, [None])


@pytest.mark.usefixtures("quiet_outbox")
def test_a_late_report_stands_unless_another_worker_claimed_the_row(
    worker: Api, db: Conn, user: User
) -> None:
    queue(db, user, "first", "second")
    [(first, *_)] = claimed(worker, user)
    before = db.execute("select claimed_until from core.notifications where id = %s", [first]).fetchone()
    worker.one("sending_notification", first, WORKER)
    after = db.execute("select claimed_until from core.notifications where id = %s", [first]).fetchone()
    assert before is not None and after is not None and after[0] >= before[0]  # the lease starts afresh
    db.execute(
        "update core.notifications set claimed_until = now() - interval '1 second' where id = %s", [first]
    )
    worker.rows("ack_notification", first, WORKER, "late")  # ran out, nobody claimed it: still ours
    assert row(db, first)["provider_message_id"] == "late"
    [(second, *_)] = claimed(worker, user)
    db.execute(
        "update core.notifications set claimed_until = now() - interval '1 second' where id = %s", [second]
    )
    rows = [r for r in worker.rows("claim_notifications", "other-worker", 10) if r[1] == user.id]
    assert [r[0] for r in rows] == [second]  # taken over
    worker.fails("55000", "ack_notification", second, WORKER)
    worker.fails("55000", "fail_notification", second, WORKER, "x")
    worker.one("fail_notification", second, "other-worker", "HTTP 502")
    worker.fails("55000", "ack_notification", second, "other-worker")  # reported: released


@pytest.mark.usefixtures("quiet_outbox")
def test_a_dead_letter_is_not_anyones_to_acknowledge(worker: Api, db: Conn, user: User) -> None:
    queue(db, user, "only")
    [(only, *_)] = claimed(worker, user)
    worker.one("fail_notification", only, WORKER, "SMTP 550: no such mailbox", True)
    worker.fails("55000", "ack_notification", only, "any-worker")
    worker.fails("55000", "ack_notification", only, WORKER)


@pytest.mark.usefixtures("quiet_outbox")
def test_the_backoff_of_a_late_attempt_stays_within_its_maximum(worker: Api, db: Conn, user: User) -> None:
    db.execute("update core.settings set value = '100' where key = 'outbox_max_attempts'")
    queue(db, user, "stubborn")
    [(stubborn, *_)] = claimed(worker, user)
    db.execute("update core.notifications set attempts = 60 where id = %s", [stubborn])
    assert worker.one("fail_notification", stubborn, WORKER, "HTTP 502") == "retry"  # no interval overflow
    assert db.execute("select next_attempt_at - now() from core.notifications where id = %s",
                      [stubborn]).fetchone() == (timedelta(hours=1),)  # fmt: skip


@pytest.mark.usefixtures("quiet_outbox")
def test_a_row_set_aside_after_its_last_lease_is_not_acknowledged_late(
    worker: Api, db: Conn, user: User
) -> None:
    db.execute("update core.settings set value = '1' where key = 'outbox_max_attempts'")
    queue(db, user, "only")
    [(only, *_)] = claimed(worker, user)  # the last attempt, whose call outlasts its lease
    db.execute(
        "update core.notifications set claimed_until = now() - interval '1 second' where id = %s", [only]
    )
    before = db.execute(
        "select coalesce(sum(delivered), 0), coalesce(sum(dead), 0) from core.outbox_delivery_stats "
        "where channel = 'email'"
    ).fetchone()
    worker.rows("claim_notifications", "another-worker", 100)  # sets it aside, counted dead
    worker.fails("55000", "ack_notification", only, WORKER)  # too late: not delivered after all
    after = db.execute(
        "select coalesce(sum(delivered), 0), coalesce(sum(dead), 0) from core.outbox_delivery_stats "
        "where channel = 'email'"
    ).fetchone()
    assert before is not None and after is not None
    assert (after[0] - before[0], after[1] - before[1]) == (0, 1)  # counted once, as dead
    assert row(db, only)["failed_at"] is not None and row(db, only)["delivered_at"] is None
