"""The Telegram bot's side of sign-in in the database: a signed-in user's one-time link, the chat
that opens it linked to the account, a shared contact filling the phone, and the lease that lets
one worker at a time read the bot's updates. The bot itself (getUpdates, replies) is tested in
tests/worker/test_bot.py."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.sql.conftest import PASSWORD, Api, MakeUser, User, sent_code

Conn = psycopg.Connection[Any]
CHAT = 880_001


def link(api: Api, user: User) -> str:
    return str(api.one("request_telegram_link", user.token, PASSWORD)[0])


def linked_chat(db: Conn, user: User) -> int | None:
    row = db.execute("select telegram_chat_id from core.users where id = %s", [user.id]).fetchone()
    return None if row is None else row[0]


def test_a_link_connects_the_chat_that_opens_it_once(api: Api, worker: Api, db: Conn, user: User) -> None:
    token = link(api, user)
    assert len(token) == 32
    worker.one("telegram_start", token, CHAT)
    assert linked_chat(db, user) == CHAT
    told = db.execute(
        "select array_agg(channel::text order by channel) from core.notifications "
        "where user_id = %s and kind = 'telegram_linked'",
        [user.id],
    ).fetchone()
    assert told is not None and "email" in told[0]  # the owner hears of it by e-mail too
    worker.one("telegram_start", token, CHAT)  # the same update read again: harmless
    worker.fails("28000", "telegram_start", token, CHAT + 1)  # used: not for another chat
    audit = db.execute(
        "select action, details from core.audit_log where target_user_id = %s and action = 'link_telegram'",
        [user.id],
    ).fetchall()
    assert audit == [("link_telegram", {"replaced": False})]
    # the chat gets the sign-in codes now
    api.one("request_sign_in_code", user.phone)
    assert len(sent_code(db, user.id)) == 6


def test_a_new_link_replaces_the_last_and_links_expire(api: Api, worker: Api, db: Conn, user: User) -> None:
    first, second = link(api, user), link(api, user)
    worker.fails("28000", "telegram_start", first, CHAT + 2)
    db.execute("update core.telegram_link_tokens set expires_at = created_at where user_id = %s", [user.id])
    worker.fails("28000", "telegram_start", second, CHAT + 2)
    worker.fails("28000", "telegram_start", "0" * 32, CHAT + 2)  # never issued
    assert linked_chat(db, user) is None


def test_links_are_limited_per_hour(api: Api, user: User) -> None:
    for _ in range(5):
        link(api, user)
    error = api.fails("BZ429", "request_telegram_link", user.token, PASSWORD)
    assert error.diag.message_hint == "use the last one, or try again in an hour"
    api.fails("28000", "request_telegram_link", "not-a-session", PASSWORD)


def test_a_link_needs_the_password_and_dies_with_the_sessions(
    api: Api, worker: Api, db: Conn, make_user: MakeUser
) -> None:
    user = make_user()
    api.warns("28P01", "request_telegram_link", user.token, "not the password")  # counted, no link
    for bad in (None, "", "x" * 73):
        api.fails("22023", "request_telegram_link", user.token, bad)
    token = link(api, user)
    other_session = api.one("login", user.email, PASSWORD)[0]
    api.one("logout_everywhere", other_session)  # a stolen session ended: its link goes with it
    worker.fails("28000", "telegram_start", token, CHAT + 20)
    assert linked_chat(db, user) is None


def test_start_refusals(api: Api, worker: Api, db: Conn, make_user: MakeUser) -> None:
    owner, other = make_user(), make_user()
    worker.one("telegram_start", link(api, owner), CHAT + 3)
    worker.fails("23505", "telegram_start", link(api, other), CHAT + 3)  # the chat is the owner's
    for bad in (None, "", "short", "G" * 32, "a" * 33, "A" * 32):
        worker.fails("22023", "telegram_start", bad, CHAT + 4)
    token = link(api, other)
    for chat in (None, 0, -1001234567890):  # a group or channel is never linked
        worker.fails("22023", "telegram_start", token, chat)
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'spam' where id = %s", [other.id])
    worker.fails("42501", "telegram_start", token, CHAT + 4)
    api.fails("42501", "telegram_start", token, CHAT + 4)  # not for the application's role


def test_a_shared_contact_fills_the_phone_of_the_linked_account(
    api: Api, worker: Api, db: Conn, make_user: MakeUser
) -> None:
    owner, other = make_user(), make_user()
    worker.one("telegram_start", link(api, owner), CHAT + 5)
    assert worker.one("telegram_contact", CHAT + 5, owner.phone, CHAT + 5) is False  # already its phone
    new_phone = "+79990001122"
    assert (
        worker.one("telegram_contact", CHAT + 5, new_phone.lstrip("+"), CHAT + 5) is True
    )  # Telegram's form
    row = db.execute("select phone from core.users where id = %s", [owner.id]).fetchone()
    assert row == (new_phone,)
    api.one("request_sign_in_code", new_phone)
    assert len(sent_code(db, owner.id)) == 6
    worker.fails("23505", "telegram_contact", CHAT + 5, other.phone, CHAT + 5)  # another account's
    worker.fails("42501", "telegram_contact", CHAT + 5, "+79990001133", CHAT + 6)  # someone else's contact
    worker.fails("P0002", "telegram_contact", CHAT + 7, "+79990001144", CHAT + 7)  # no account linked
    told = db.execute(
        "select count(*) from core.notifications where user_id = %s and kind = 'phone_changed'", [owner.id]
    ).fetchone()
    assert told is not None and told[0] >= 1  # the owner hears of a new phone
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'spam' where id = %s", [owner.id])
    worker.fails("42501", "telegram_contact", CHAT + 5, "+79990001155", CHAT + 5)  # a blocked account
    for chat, phone in (
        (None, new_phone),
        (0, new_phone),
        (-100, new_phone),
        (CHAT + 5, None),
        (CHAT + 5, "12"),
    ):
        worker.fails("22023", "telegram_contact", chat, phone, chat)


def test_one_worker_at_a_time_reads_the_updates(worker: Api, db: Conn) -> None:
    db.execute("update core.telegram_bot set poller = null, poll_until = null, next_update_id = 0")
    assert worker.one("telegram_poll", "w1") == 0
    assert worker.one("telegram_poll", "w2") is None  # w1 holds it
    worker.one("telegram_polled", "w1", 41)
    worker.one("telegram_polled", "w1", 40)  # never back
    worker.fails("55000", "telegram_polled", "w2", 50)
    db.execute("update core.telegram_bot set poll_until = now() - interval '1 second'")
    assert worker.one("telegram_poll", "w2") == 41  # w1's lease ran out: w2 carries on from there
    assert worker.one("telegram_poll", "w1") is None
    for bad in (None, "", "a b", "x" * 101):
        worker.fails("22023", "telegram_poll", bad)
        worker.fails("22023", "telegram_polled", bad, 1)
    db.execute("update core.telegram_bot set poll_until = now() + interval '1 second'")
    worker.one("telegram_polled", "w2", 42)  # handling updates renews the lease
    row = db.execute("select poll_until > now() + interval '1 minute' from core.telegram_bot").fetchone()
    assert row == (True,)
    worker.fails("22023", "telegram_polled", "w2", -1)
    worker.fails("22023", "telegram_polled", "w2", None)


def test_the_purge_removes_links_that_count_for_nothing(api: Api, db: Conn, user: User) -> None:
    link(api, user)
    link(api, user)
    db.execute(
        "update core.telegram_link_tokens set created_at = now() - interval '2 hours', "
        "expires_at = now() - interval '2 hours' + interval '15 minutes' where user_id = %s",
        [user.id],
    )
    purged = db.execute("select ops.purge_sign_in_records()").fetchone()
    assert purged is not None and purged[0]["telegram_links"] >= 2
    left = db.execute(
        "select count(*) from core.telegram_link_tokens where user_id = %s", [user.id]
    ).fetchone()
    assert left == (0,)
    link(api, user)  # and the hourly limit counts from zero again
