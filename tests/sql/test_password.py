"""Password change and recovery: api.change_password, api.request_password_reset, api.reset_password
— sessions revoked, wrong guesses counted and throttled, and no answer that tells whether an
account exists."""

from __future__ import annotations

import psycopg
import pytest

from tests.sql.conftest import PASSWORD, Api, Conn, MakeUser, User

NEW_PASSWORD = "a new, longer secret"


def reset_code(db: Conn, user: User) -> str:
    """The reset code the outbox holds for the user (what the delivery worker would send)."""
    row = db.execute(
        "select payload ->> 'code' from core.notifications "
        "where user_id = %s and kind = 'password_reset_code' order by id desc limit 1",
        [user.id],
    ).fetchone()
    assert row is not None, "no reset code was queued"
    return str(row[0])


def live_sessions(db: Conn, user: User) -> int:
    row = db.execute(
        "select count(*) from core.sessions where user_id = %s and revoked_at is null", [user.id]
    ).fetchone()
    assert row is not None
    return int(row[0])


def notified(db: Conn, user: User, kind: str) -> int:
    row = db.execute(
        "select count(distinct created_at) from core.notifications where user_id = %s and kind = %s",
        [user.id, kind],
    ).fetchone()
    assert row is not None
    return int(row[0])


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_changing_the_password_ends_the_other_sessions_and_tells_the_owner(
    api: Api, db: Conn, user: User
) -> None:
    other = api.one("login", user.email, PASSWORD)[0]
    assert live_sessions(db, user) == 2
    assert api.one("change_password", user.token, PASSWORD, NEW_PASSWORD) == 1
    assert api.one("me", user.token)[0] == user.id  # this session goes on
    api.fails("28000", "me", other)
    api.warns("28P01", "login", user.email, PASSWORD)
    assert api.one("login", user.email, NEW_PASSWORD)[1] == user.id
    assert notified(db, user, "password_changed") == 1


def test_change_password_refuses_bad_arguments(api: Api, user: User) -> None:
    api.fails("22023", "change_password", user.token, None, NEW_PASSWORD)
    api.fails("22023", "change_password", user.token, "", NEW_PASSWORD)
    api.fails("22023", "change_password", user.token, "x" * 73, NEW_PASSWORD)
    api.fails("22023", "change_password", user.token, PASSWORD, "short")
    api.fails("22023", "change_password", user.token, PASSWORD, "é" * 40)  # 80 bytes
    api.fails("22023", "change_password", user.token, PASSWORD, None)
    api.fails("22023", "change_password", user.token, PASSWORD, PASSWORD)  # the same
    api.fails("28000", "change_password", "0" * 64, PASSWORD, NEW_PASSWORD)
    api.fails("28000", "change_password", None, PASSWORD, NEW_PASSWORD)


def test_wrong_current_passwords_are_counted_then_refused(api: Api, db: Conn, user: User) -> None:
    db.execute("update core.settings set value = '3' where key = 'sign_in_failure_limit'")
    for _ in range(3):
        notice = api.warns("28P01", "change_password", user.token, "not the password", NEW_PASSWORD)
        assert notice.message_primary == "the current password is wrong"
    error = api.fails("BZ429", "change_password", user.token, PASSWORD, NEW_PASSWORD)
    assert error.diag.message_hint and error.diag.message_hint.startswith("try again after")
    api.one("login", user.email, PASSWORD)  # the password itself did not change


def test_a_reset_code_goes_to_the_accounts_channels_and_sets_a_new_password(
    api: Api, db: Conn, user: User
) -> None:
    api.one("login", user.email, PASSWORD)
    expires = api.one("request_password_reset", user.email)
    channels = db.execute(
        "select array_agg(channel::text order by channel) from core.notifications "
        "where user_id = %s and kind = 'password_reset_code'",
        [user.id],
    ).fetchone()
    assert channels is not None and len(channels[0]) >= 1
    code = reset_code(db, user)
    # the code belongs to the identifier it was asked for: not the same account's phone
    api.fails("28000", "reset_password", user.phone, code, NEW_PASSWORD)
    assert api.one("reset_password", f"  {user.email.upper()} ", code, NEW_PASSWORD) == 2
    assert live_sessions(db, user) == 0
    api.fails("28000", "me", user.token)
    assert api.one("login", user.email, NEW_PASSWORD)[1] == user.id
    assert notified(db, user, "password_changed") == 1
    api.fails("28000", "reset_password", user.email, code, "yet another password")  # used
    assert expires is not None


def test_asking_for_a_code_tells_nobody_whether_the_account_exists(api: Api, db: Conn, user: User) -> None:
    known = api.one("request_password_reset", user.email)
    unknown = api.one("request_password_reset", "nobody-here@example.com")
    assert type(known) is type(unknown)
    # the same work for both (a bcrypt-hashed code stored), only the account's is ever sent
    rows = db.execute(
        "select identifier, user_id is not null, code_hash like '$2_$%' from core.password_reset_codes "
        "order by id"
    ).fetchall()
    assert rows == [(f"email:{user.email}", True, True), ("email:nobody-here@example.com", False, True)]
    queued = db.execute(
        "select count(distinct user_id) from core.notifications where kind = 'password_reset_code'"
    ).fetchone()
    assert queued == (1,) and notified(db, user, "password_reset_code") == 1
    # a wrong code: the same warning whether or not the identifier has an account
    for identifier in (user.email, "nobody-here@example.com"):
        notice = api.warns("28P01", "reset_password", identifier, "000000", NEW_PASSWORD)
        assert (notice.message_primary, notice.message_detail) == ("wrong code", "4 attempt(s) left")
    # never asked for: the same refusal for both
    for identifier in (user.phone, "+79990000000"):
        error = api.fails("28000", "reset_password", identifier, "123456", NEW_PASSWORD)
        assert (error.diag.message_primary or "").startswith("no valid password reset code")


def test_codes_are_throttled_per_identifier(api: Api, db: Conn, user: User) -> None:
    api.one("request_password_reset", user.email)
    error = api.fails("BZ429", "request_password_reset", user.email)
    assert error.diag.message_primary == "a code was sent moments ago"
    db.execute("update core.settings set value = '2' where key = 'sign_in_code_daily_limit'")
    db.execute("update core.password_reset_codes set created_at = created_at - interval '10 minutes'")
    api.one("request_password_reset", user.email)  # the second of the day
    db.execute("update core.password_reset_codes set created_at = created_at - interval '10 minutes'")
    error = api.fails("BZ429", "request_password_reset", user.email)
    assert error.diag.message_primary == "too many codes were asked for today"
    api.one("request_password_reset", user.phone)  # another identifier has its own count


def test_a_code_is_burnt_after_its_attempts_and_replaced_by_a_newer_one(
    api: Api, db: Conn, user: User
) -> None:
    api.one("request_password_reset", user.email)
    first = reset_code(db, user)
    for left in (4, 3, 2, 1, 0):
        notice = api.warns("28P01", "reset_password", user.email, wrong_code(first), NEW_PASSWORD)
        assert notice.message_detail == f"{left} attempt(s) left"
    error = api.fails("28000", "reset_password", user.email, first, NEW_PASSWORD)
    assert error.diag.message_primary == "too many wrong entries: this code no longer works"
    db.execute("update core.password_reset_codes set created_at = created_at - interval '10 minutes'")
    api.one("request_password_reset", user.email)
    second = reset_code(db, user)
    if second != first:  # the newer code is the one checked: the older one is just a wrong code now
        api.warns("28P01", "reset_password", user.email, first, NEW_PASSWORD)
    db.execute("update core.password_reset_codes set expires_at = now() where used_at is null")
    api.fails("28000", "reset_password", user.email, second, NEW_PASSWORD)  # expired


def test_reset_password_refuses_bad_arguments_before_spending_an_attempt(
    api: Api, db: Conn, user: User
) -> None:
    api.one("request_password_reset", user.email)
    code = reset_code(db, user)
    api.fails("22023", "reset_password", user.email, code, "short")
    api.fails("22023", "reset_password", user.email, code, None)
    api.fails("22023", "reset_password", user.email, "12345", NEW_PASSWORD)
    api.fails("22023", "reset_password", user.email, "abcdef", NEW_PASSWORD)
    api.fails("22023", "reset_password", user.email, None, NEW_PASSWORD)
    api.fails("22023", "reset_password", "not an identifier", code, NEW_PASSWORD)
    api.fails("22023", "reset_password", None, code, NEW_PASSWORD)
    api.fails("22023", "request_password_reset", None)
    api.fails("22023", "request_password_reset", " ")
    api.fails("22023", "request_password_reset", "x@y")
    attempts = db.execute("select attempts from core.password_reset_codes").fetchone()
    assert attempts == (0,)
    assert api.one("reset_password", user.email, code, NEW_PASSWORD) == 1


def test_a_blocked_account_gets_no_code_and_cannot_reset(
    api: Api, db: Conn, make_user: MakeUser, admin: User
) -> None:
    user = make_user("Blocked Seller")
    api.one("request_password_reset", user.email)
    code = reset_code(db, user)
    api.one("block_user", admin.token, user.id, "sells stolen parts")
    api.fails("42501", "reset_password", user.email, code, NEW_PASSWORD)
    db.execute("update core.password_reset_codes set created_at = created_at - interval '10 minutes'")
    before = notified(db, user, "password_reset_code")
    api.one("request_password_reset", user.email)  # the same answer …
    assert notified(db, user, "password_reset_code") == before  # … and nothing sent


def test_the_purge_removes_reset_codes_that_count_for_nothing(api: Api, db: Conn, user: User) -> None:
    api.one("request_password_reset", user.email)
    db.execute(
        "update core.password_reset_codes set created_at = now() - interval '8 days', "
        "expires_at = now() - interval '8 days' + interval '5 minutes'"
    )
    purged = db.execute("select ops.purge_sign_in_records()").fetchone()
    assert purged is not None and purged[0]["reset_codes"] == 1
    with pytest.raises(psycopg.Error):
        db.execute(
            "savepoint s; insert into core.password_reset_codes (identifier, code_hash, expires_at, "
            "max_attempts) values ('someone', 'x', now() + interval '1 minute', 5)"
        )
    db.execute("rollback to savepoint s")


def test_a_changed_or_reset_password_ends_the_accounts_other_pending_codes(
    api: Api, db: Conn, user: User
) -> None:
    api.one("request_password_reset", user.email)
    api.one("request_password_reset", user.phone)
    first_phone_code = reset_code(db, user)  # the newest: the phone's
    assert api.one("change_password", user.token, PASSWORD, NEW_PASSWORD) == 0
    api.fails("28000", "reset_password", user.phone, first_phone_code, "yet another secret")
    db.execute("update core.password_reset_codes set created_at = created_at - interval '10 minutes'")
    api.one("request_password_reset", user.email)
    email_code = reset_code(db, user)
    db.execute("update core.password_reset_codes set created_at = created_at - interval '10 minutes'")
    api.one("request_password_reset", user.phone)
    phone_code = reset_code(db, user)
    assert api.one("reset_password", user.email, email_code, "yet another secret") == 1  # this session
    api.fails("28000", "reset_password", user.phone, phone_code, "and one more secret")
