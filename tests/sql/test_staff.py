"""Moderators and admins: api.set_user_role, block_user, unblock_user, audit_log, and the
operator's ops.bootstrap_admin."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.harness import as_role
from tests.sql.conftest import PASSWORD, Api, Listings, MakeUser, User

Conn = psycopg.Connection[Any]


def last_audit(db: Conn) -> tuple[Any, ...]:
    row = db.execute(
        "select actor_id, action, target_user_id, reason, details "
        "from core.audit_log order by id desc limit 1"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_admin_appoints_and_removes_moderators_audited(api: Api, db: Conn, admin: User, user: User) -> None:
    api.one("set_user_role", admin.token, user.id, "moderator", "helps with parts")
    assert api.one("user_profile", user.id)[2] == "moderator"
    assert last_audit(db) == (
        admin.id,
        "set_user_role",
        user.id,
        "helps with parts",
        {"from": "user", "to": "moderator"},
    )
    api.one("set_user_role", admin.token, user.id, "user")
    assert api.one("user_profile", user.id)[2] == "user"


def test_set_user_role_refusals(api: Api, admin: User, moderator: User, user: User) -> None:
    api.fails("42501", "set_user_role", user.token, moderator.id, "user")
    api.fails("42501", "set_user_role", moderator.token, user.id, "moderator")
    api.fails("P0002", "set_user_role", admin.token, 10**12, "moderator")
    api.fails("22023", "set_user_role", admin.token, user.id, "superuser")
    api.fails("55000", "set_user_role", admin.token, user.id, "user")  # no change
    api.fails("55000", "set_user_role", admin.token, admin.id, "user")  # the last admin
    api.fails("28000", "set_user_role", "0" * 64, user.id, "moderator")


def test_block_ends_sessions_at_once_and_unblock_lets_them_sign_in_again(
    api: Api, db: Conn, admin: User, user: User
) -> None:
    api.one("block_user", admin.token, user.id, "sells stolen parts")
    api.fails("28000", "me", user.token)
    api.fails("28000", "create_shop", user.token, "Shop", "")
    api.fails("42501", "login", user.email, PASSWORD)
    assert api.one("user_profile", user.id)[4] is True
    assert last_audit(db)[:4] == (admin.id, "block_user", user.id, "sells stolen parts")

    api.one("unblock_user", admin.token, user.id, "appeal accepted")
    api.fails("28000", "me", user.token)  # old sessions stay ended
    token = api.one("login", user.email, PASSWORD)[0]
    assert api.one("me", token)[0] == user.id
    assert last_audit(db)[1] == "unblock_user"


def test_a_blocked_users_session_stops_even_if_not_revoked(api: Api, db: Conn, user: User) -> None:
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'x' where id = %s", [user.id])
    api.fails("42501", "me", user.token)


def test_block_refusals(api: Api, make_user: MakeUser, admin: User, moderator: User, user: User) -> None:
    other_admin = make_user("Second Admin", role="admin")
    api.fails("42501", "block_user", user.token, moderator.id, "no reason")  # users cannot block
    api.fails("42501", "block_user", moderator.token, user.id, "spam")  # neither can moderators
    api.fails("42501", "block_user", admin.token, other_admin.id, "spam")  # admins cannot be blocked
    api.fails("22023", "block_user", admin.token, user.id, "")  # a reason is required
    api.fails("22023", "block_user", admin.token, user.id, "x" * 501)
    api.fails("P0002", "block_user", admin.token, 10**12, "spam")
    api.one("block_user", admin.token, user.id, "spam")
    api.fails("55000", "block_user", admin.token, user.id, "spam again")
    api.fails("55000", "unblock_user", admin.token, moderator.id)
    api.fails("42501", "unblock_user", moderator.token, user.id)
    api.fails("P0002", "unblock_user", admin.token, 10**12)


def test_admins_cannot_block_themselves(api: Api, admin: User) -> None:
    api.fails("22023", "block_user", admin.token, admin.id, "oops")


def test_audit_log_is_read_by_staff_only_and_nobody_edits_it(
    api: Api, db: Conn, make_user: MakeUser, admin: User, moderator: User, user: User
) -> None:
    api.one("block_user", admin.token, make_user("Spammer").id, "spam")
    entries = api.rows("audit_log", moderator.token, 10)
    assert entries[0][4] == "block_user" and entries[0][3] == "Admin"
    assert api.rows("audit_log", admin.token, 10, entries[0][0]) == entries[1:]  # paging
    api.fails("42501", "audit_log", user.token, 10)
    api.fails("22023", "audit_log", moderator.token, 0)
    api.fails("22023", "audit_log", moderator.token, 501)
    api.fails("28000", "audit_log", None, 10)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_app"):
        db.execute("update core.audit_log set reason = 'rewritten'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_owner"):
        db.execute("update core.audit_log set reason = 'rewritten'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_owner"):
        db.execute("delete from core.audit_log")


def test_bootstrap_admin_is_for_operators_and_only_once(api: Api, db: Conn, make_user: MakeUser) -> None:
    db.execute("update core.users set role = 'user' where role = 'admin'")
    first = make_user("Founder")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_app"):
        db.execute("select ops.bootstrap_admin(%s)", [first.email])
    assert db.execute("select ops.bootstrap_admin(%s)", [first.email.upper()]).fetchone() == (first.id,)
    assert api.one("user_profile", first.id)[2] == "admin"
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState), db.transaction():
        db.execute("select ops.bootstrap_admin(%s)", [first.email])
    with pytest.raises(psycopg.errors.NoDataFound), db.transaction():
        db.execute("update core.users set role = 'user' where role = 'admin'")
        db.execute("select ops.bootstrap_admin('nobody@example.com')")


def test_the_callers_request_id_is_kept_in_its_audit_rows_and_notifications(
    api: Api, db: Conn, admin: User, user: User
) -> None:
    """application_name '<client>/<request id>' (V0023): the id goes into the rows the call writes."""
    db.execute("set application_name = 'shop-web/req-0001abcd'")
    api.one("block_user", admin.token, user.id, "sells stolen parts")
    assert last_request_id(db, "core.audit_log") == "req-0001abcd"
    queued = db.execute("select core.notify(%s, 'test_notice', '{}')", [admin.id]).fetchone()
    assert queued is not None and queued[0] >= 1
    assert last_request_id(db, "core.notifications") == "req-0001abcd"
    # a name without an id, or with one the pattern refuses, leaves it empty
    for name in ("shop-web", "shop-web/short", "shop-web/has spaces in it", "a/" + "x" * 41):
        db.execute("select set_config('application_name', %s, false)", [name])
        db.execute("select core.notify(%s, 'test_notice', '{}')", [admin.id])
        assert last_request_id(db, "core.notifications") is None, name


def last_request_id(db: Conn, table: str) -> str | None:
    row = db.execute(f"select request_id from {table} order by id desc limit 1".encode()).fetchone()
    assert row is not None
    value: str | None = row[0]
    return value


def test_a_blocked_sellers_listings_leave_the_marketplace_until_unblocked(
    api: Api, db: Conn, listings: Listings, make_user: MakeUser, admin: User, moderator: User
) -> None:
    seller, buyer = make_user("Seller"), make_user("Buyer")
    title = "Колодки от продавца, которого заблокируют"
    channel = api.one("create_channel", moderator.token, "Все: блокировки", -1009001, None, None)
    listing = listings.publish(seller, moderator, listings.create(seller, "part", p_title=title))
    db.execute("update core.notifications set delivered_at = now() where delivered_at is null")
    api.one("add_favorite", buyer.token, listing)

    def found() -> list[int]:
        return [r["listing_id"] for r in api.search(p_query="заблокируют")]

    def channel_status() -> list[str]:
        rows = db.execute(
            "select payload -> 'snapshot' ->> 'status' from core.notifications "
            "where channel_post_id is not null and payload ->> 'listing_id' = %s::text "
            "and kind = 'channel_post_edit' order by id",
            [listing],
        ).fetchall()
        return [r[0] for r in rows]

    assert found() == [listing]
    api.one("block_user", admin.token, seller.id, "sells stolen parts")
    assert found() == []
    assert [r[0] for r in api.rows("seller_listings", seller.id)] == []
    api.fails("P0002", "listing_card", listing, None)
    api.fails("P0002", "listing_card", listing, buyer.token)
    api.fails("P0002", "open_contacts", listing, buyer.token)  # the blocked person's phone withheld
    api.fails("P0002", "price_history", listing)
    api.fails("P0002", "cart_add", buyer.token, listing, 1)
    assert api.card(listing, moderator.token)["status"] == "published"  # staff still see it
    assert channel_status() == ["sold"]  # the channel marks it off sale
    active = db.execute(
        "select coalesce(sum(listings), 0) from analytics.active_listings where kind = 'part'"
    ).fetchone()

    api.one("unblock_user", admin.token, seller.id, "appeal accepted")
    assert found() == [listing]
    assert api.card(listing, buyer.token)["title"] == title
    assert api.one("open_contacts", listing, buyer.token)[2] == seller.id
    assert channel_status() == ["sold", "on_sale"]  # and back on sale
    again = db.execute(
        "select coalesce(sum(listings), 0) from analytics.active_listings where kind = 'part'"
    ).fetchone()
    assert active is not None and again is not None and again[0] == active[0] + 1
    api.one("set_channel_active", moderator.token, channel, False)
