"""Users and sign-in: api.register, login, logout, logout_everywhere, me, user_profile,
set_notification_channels, link_telegram, request_sign_in_code, sign_in_with_code."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.sql.conftest import PASSWORD, Api, MakeUser, User, sent_code, unique_phone

Conn = psycopg.Connection[Any]


# -- register --------------------------------------------------------------------------------


def test_register_normalises_contacts_and_hashes_the_password(api: Api, db: Conn) -> None:
    user_id = api.one("register", "  Anna  ", PASSWORD, " Anna@Example.COM ", "8 (916) 555-12-34")
    row = db.execute(
        "select display_name, email, phone, password_hash, notification_channels::text[], role::text "
        "from core.users where id = %s",
        [user_id],
    ).fetchone()
    assert row is not None
    name, email, phone, password_hash, channels, role = row
    assert (name, email, phone, role) == ("Anna", "anna@example.com", "+79165551234", "user")
    assert password_hash.startswith("$2") and PASSWORD not in password_hash
    assert channels == ["email", "sms"]


def test_register_with_phone_only(api: Api) -> None:
    user_id = api.one("register", "Phone Only", PASSWORD, None, "+44 20 7946 0958")
    assert api.one("user_profile", user_id)[1] == "Phone Only"


@pytest.mark.parametrize(
    ("name", "password", "email", "phone", "channels"),
    [
        ("", PASSWORD, "a@example.com", None, None),  # empty name
        ("   ", PASSWORD, "a@example.com", None, None),  # blank name
        ("x" * 81, PASSWORD, "a@example.com", None, None),  # over-long name
        ("Bad\x07Name", PASSWORD, "a@example.com", None, None),  # control character
        (None, PASSWORD, "a@example.com", None, None),  # no name
        ("Name", PASSWORD, "not-an-email", None, None),  # malformed email
        ("Name", PASSWORD, "a@b", None, None),  # email without a domain dot
        ("Name", PASSWORD, None, "12345", None),  # malformed phone
        ("Name", PASSWORD, None, "+7 916 abc", None),  # letters in phone
        ("Name", PASSWORD, None, None, None),  # neither email nor phone
        ("Name", "short", "a@example.com", None, None),  # password too short
        ("Name", "я" * 37, "a@example.com", None, None),  # 74 bytes: over bcrypt's 72
        ("Name", None, "a@example.com", None, None),  # no password
        ("Name", PASSWORD, "a@example.com", None, ["pigeon"]),  # unknown channel
        ("Name", PASSWORD, "a@example.com", None, ["sms"]),  # sms without a phone
        ("Name", PASSWORD, "a@example.com", None, ["telegram"]),  # telegram not linked yet
    ],
)
def test_register_refuses_bad_arguments(
    api: Api, name: str | None, password: str | None, email: str | None, phone: str | None, channels: Any
) -> None:
    api.fails("22023", "register", name, password, email, phone, channels)


def test_register_refuses_a_taken_email_or_phone(api: Api, user: User) -> None:
    api.fails("23505", "register", "Other", PASSWORD, user.email.upper(), None)
    national = "8" + user.phone[2:]  # the same number written the Russian way
    api.fails("23505", "register", "Other", PASSWORD, None, national)


# -- login, sessions -------------------------------------------------------------------------


def test_login_by_email_or_phone_returns_a_token_whose_hash_only_is_stored(
    api: Api, db: Conn, user: User
) -> None:
    for identifier in (user.email, "8" + user.phone[2:]):
        token, user_id, expires_at = api.one("login", identifier, PASSWORD)
        assert user_id == user.id and len(token) == 64
        stored = db.execute(
            "select count(*) from core.sessions where token_hash = sha256(%s::bytea)", [token.encode()]
        ).fetchone()
        assert stored == (1,)
        leaked = db.execute(
            "select count(*) from core.sessions where encode(token_hash, 'hex') = %s", [token]
        )
        assert leaked.fetchone() == (0,)
        assert api.one("me", token)[0] == user.id
        assert expires_at is not None


def test_wrong_password_and_unknown_user_look_the_same_and_are_recorded(
    api: Api, db: Conn, user: User
) -> None:
    wrong = api.warns("28P01", "login", user.email, "wrong password")
    unknown = api.warns("28P01", "login", "nobody@example.com", PASSWORD)
    assert wrong.message_primary == unknown.message_primary
    failures = db.execute("select identifier from core.sign_in_failures order by id").fetchall()
    assert failures[-2:] == [(f"email:{user.email}",), ("email:nobody@example.com",)]


def test_repeated_failures_are_throttled_even_for_the_right_password(api: Api, user: User) -> None:
    for _ in range(5):
        api.warns("28P01", "login", user.email, "wrong password")
    error = api.fails("BZ429", "login", user.email, PASSWORD)
    assert error.diag.message_hint is not None and "try again after" in error.diag.message_hint
    # another identifier of the same person is throttled on its own
    assert api.one("login", user.phone, PASSWORD)[1] == user.id


def test_success_clears_earlier_failures(api: Api, db: Conn, user: User) -> None:
    for _ in range(4):
        api.warns("28P01", "login", user.email, "wrong password")
    api.one("login", user.email, PASSWORD)
    left = db.execute(
        "select count(*) from core.sign_in_failures where identifier = %s", [f"email:{user.email}"]
    )
    assert left.fetchone() == (0,)


@pytest.mark.parametrize(
    ("identifier", "password"),
    [("", PASSWORD), (None, PASSWORD), ("a@example.com", ""), ("a@example.com", None), ("not a phone", "x")],
)
def test_login_refuses_bad_arguments(api: Api, identifier: str | None, password: str | None) -> None:
    api.fails("22023", "login", identifier, password)


def test_blocked_user_cannot_sign_in(api: Api, admin: User, user: User) -> None:
    api.one("block_user", admin.token, user.id, "spam")
    api.fails("42501", "login", user.email, PASSWORD)


@pytest.mark.parametrize("token", [None, "", "not-a-token", "0" * 64, "A" * 64])
def test_missing_malformed_or_unknown_tokens_are_refused(api: Api, token: str | None) -> None:
    api.fails("28000", "me", token)


def test_expired_token_is_refused(api: Api, db: Conn, user: User) -> None:
    db.execute(
        "update core.sessions set created_at = now() - interval '31 days', "
        "expires_at = now() - interval '1 day' where user_id = %s",
        [user.id],
    )
    api.fails("28000", "me", user.token)


def test_logout_ends_this_session_only(api: Api, user: User) -> None:
    other = api.one("login", user.email, PASSWORD)[0]
    api.one("logout", user.token)
    api.fails("28000", "me", user.token)
    api.fails("28000", "logout", user.token)
    assert api.one("me", other)[0] == user.id


def test_logout_everywhere_ends_every_session(api: Api, user: User) -> None:
    second = api.one("login", user.email, PASSWORD)[0]
    assert api.one("logout_everywhere", second) == 2
    api.fails("28000", "me", user.token)
    api.fails("28000", "me", second)


# -- profiles and channels -------------------------------------------------------------------


def test_public_profile_needs_no_token_and_shows_no_contacts(api: Api, user: User) -> None:
    row = api.one("user_profile", user.id)
    assert row[:3] == (user.id, "Ivan Petrov", "user")
    assert user.email not in map(str, row) and user.phone not in map(str, row)
    api.fails("P0002", "user_profile", 10**12)


def test_me_shows_own_contacts(api: Api, user: User) -> None:
    row = api.one("me", user.token)
    assert (row[2], row[3], row[5]) == (user.email, user.phone, "user")


def test_notification_channels_need_their_contact(api: Api, user: User) -> None:
    assert api.one("set_notification_channels", user.token, ["sms", "email", "sms"]) == ["sms", "email"]
    api.fails("22023", "set_notification_channels", user.token, ["telegram"])
    api.fails("22023", "set_notification_channels", user.token, [])
    api.fails("22023", "set_notification_channels", user.token, ["fax"])
    api.fails("28000", "set_notification_channels", "0" * 64, ["sms"])
    api.one("link_telegram", user.token, 424242, user.phone)
    assert api.one("set_notification_channels", user.token, ["telegram", "email"]) == ["telegram", "email"]


# -- Telegram ---------------------------------------------------------------------------------


def test_link_telegram_requires_the_accounts_own_phone(api: Api, make_user: MakeUser) -> None:
    a, b = make_user("A"), make_user("B")
    api.fails("42501", "link_telegram", a.token, 1001, b.phone)
    api.fails("22023", "link_telegram", a.token, None, a.phone)
    api.fails("22023", "link_telegram", a.token, 1001, None)
    api.fails("28000", "link_telegram", None, 1001, a.phone)
    api.one("link_telegram", a.token, 1001, a.phone)
    api.fails("23505", "link_telegram", b.token, 1001, b.phone)


def linked(api: Api, user: User, chat_id: int = 777) -> None:
    api.one("link_telegram", user.token, chat_id, user.phone)


def test_code_flow_signs_in(api: Api, db: Conn, user: User) -> None:
    linked(api, user)
    expires_at = api.one("request_sign_in_code", user.phone)
    assert expires_at is not None
    code = sent_code(db, user.id)  # only the outbox (the Telegram bot) has it
    assert len(code) == 6 and code.isdigit()
    token, user_id, _ = api.one("sign_in_with_code", user.phone, code)
    assert user_id == user.id and api.one("me", token)[0] == user.id
    api.fails("28000", "sign_in_with_code", user.phone, code)  # used


def codes_queued(db: Conn, user_id: int) -> int:
    row = db.execute(
        "select count(*) from core.notifications where user_id = %s and kind = 'sign_in_code'", [user_id]
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_code_requests_answer_the_same_whether_the_number_has_an_account(
    api: Api, db: Conn, user: User, admin: User
) -> None:
    # not linked to Telegram, and nobody's number: the same answer (an expiry), and no code goes out
    unlinked, nobody = (
        api.one("request_sign_in_code", user.phone),
        api.one("request_sign_in_code", unique_phone()),
    )
    assert unlinked == nobody
    assert codes_queued(db, user.id) == 0
    api.fails("22023", "request_sign_in_code", "12")
    linked(api, user)
    api.fails("BZ429", "request_sign_in_code", user.phone)  # too soon, whoever the number belongs to
    db.execute("update core.sign_in_codes set created_at = created_at - interval '2 minutes'")
    api.one("request_sign_in_code", user.phone)
    assert codes_queued(db, user.id) == 1
    db.execute("update core.sign_in_codes set created_at = created_at - interval '2 minutes'")
    api.one("block_user", admin.token, user.id, "fraud")
    api.one("request_sign_in_code", user.phone)  # blocked: the same answer, no code
    assert codes_queued(db, user.id) == 1


def test_wrong_codes_are_counted_and_burn_the_code(api: Api, db: Conn, user: User) -> None:
    linked(api, user)
    api.one("request_sign_in_code", user.phone)
    code = sent_code(db, user.id)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for left in (4, 3, 2, 1, 0):
        notice = api.warns("28P01", "sign_in_with_code", user.phone, wrong)
        assert notice.message_detail == f"{left} attempt(s) left"
    assert db.execute("select attempts from core.sign_in_codes where user_id = %s", [user.id]).fetchone() == (
        5,
    )
    api.fails("28000", "sign_in_with_code", user.phone, code)  # guessed too often: even the right code fails


def test_expired_and_superseded_codes_are_refused(api: Api, db: Conn, user: User) -> None:
    linked(api, user)
    api.one("request_sign_in_code", user.phone)
    first = sent_code(db, user.id)
    db.execute(
        "update core.sign_in_codes set created_at = created_at - interval '10 minutes', "
        "expires_at = expires_at - interval '10 minutes'"
    )
    api.fails("28000", "sign_in_with_code", user.phone, first)  # expired
    api.one("request_sign_in_code", user.phone)
    second = sent_code(db, user.id)
    db.execute("update core.sign_in_codes set created_at = created_at - interval '2 minutes'")
    api.one("request_sign_in_code", user.phone)
    third = sent_code(db, user.id)
    if second != third:  # equal once in a million draws
        api.warns("28P01", "sign_in_with_code", user.phone, second)  # superseded: only the newest code counts
    assert api.one("sign_in_with_code", user.phone, third)[1] == user.id


@pytest.mark.parametrize("code", [None, "", "12345", "1234567", "12a456"])
def test_sign_in_with_code_refuses_malformed_codes(api: Api, user: User, code: str | None) -> None:
    api.fails("22023", "sign_in_with_code", user.phone, code)


def test_sign_in_with_code_for_unknown_phone_is_refused(api: Api) -> None:
    api.fails("28000", "sign_in_with_code", unique_phone(), "123456")


def test_sign_in_says_the_outcome_in_its_row_and_still_counts_failures(
    api: Api, db: Conn, make_user: MakeUser
) -> None:
    user = make_user("Outcome")
    [row] = api.rows("sign_in", user.email, PASSWORD, None)
    assert row[0] == "signed_in" and row[2] == user.id and len(row[1]) == 64
    assert api.rows("sign_in", user.email, "not the password", None) == [("wrong_password", None, None, None)]
    failures = db.execute(
        "select count(*) from core.sign_in_failures where identifier = %s", ["email:" + user.email]
    ).fetchone()
    assert failures == (1,)  # recorded, though the caller saw a row
    api.fails("28000", "sign_in", user.phone, None, "000000")  # no code was asked for
    db.execute("update core.users set telegram_chat_id = 880777 where id = %s", [user.id])
    api.one("request_sign_in_code", user.phone)
    code = sent_code(db, user.id)
    other = "000000" if code != "000000" else "111111"
    assert api.rows("sign_in", user.phone, None, other) == [("wrong_code", None, None, None)]
    assert api.rows("sign_in", user.phone, None, code)[0][:1] == ("signed_in",)
    for bad in ((user.email, None, None), (user.email, PASSWORD, "123456"), (None, PASSWORD, None)):
        api.fails("22023", "sign_in", *bad)
