"""Deals and reviews, the chat under a listing, contact clicks, saved searches, the outbox from
inside one transaction, and admin settings."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.sql.conftest import Api, Listings, MakeUser, User, match_saved_searches

Conn = psycopg.Connection[Any]


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


@pytest.fixture
def public(listings: Listings, seller: User, moderator: User) -> int:
    return listings.publish(seller, moderator, listings.create(seller, "part", p_title="Колодки Bosch"))


def kinds(db: Conn, user: User) -> list[str]:
    return [
        r[0]
        for r in db.execute("select kind from core.notifications where user_id = %s order by id", [user.id])
    ]


# -- deals and reviews ------------------------------------------------------------------------


def test_a_review_needs_a_deal_between_exactly_those_two(
    api: Api, db: Conn, seller: User, user: User, make_user: MakeUser, public: int
) -> None:
    other_seller = make_user("Other Seller")
    error = api.fails("55000", "review_seller", user.token, seller.id, 5, "Great", None)
    assert error.diag.message_primary == "you have no deal with this seller"
    deal = api.one("record_deal", seller.token, user.id, public)
    assert "deal_confirmation_request" in kinds(db, user)
    error = api.fails("55000", "review_seller", user.token, seller.id, 5, "Great", None)
    assert error.diag.message_primary == f"deal {deal} is not confirmed yet"
    api.fails("P0002", "confirm_deal", other_seller.token, deal)  # not their deal
    api.one("confirm_deal", user.token, deal)
    api.fails("55000", "confirm_deal", user.token, deal)
    assert "review_request" in kinds(db, user)
    api.fails("55000", "review_seller", user.token, other_seller.id, 5, "Great", None)  # deal is with another
    api.fails(
        "55000", "review_seller", seller.token, user.id, 5, "Great", None
    )  # the seller cannot review back
    review = api.one("review_seller", user.token, seller.id, 4, "Fast shipping", None)
    error = api.fails("55000", "review_seller", user.token, seller.id, 5, "Again", deal)  # one per deal
    assert error.diag.message_primary == f"deal {deal} already has your review"
    error = api.fails("55000", "review_seller", user.token, seller.id, 5, "Again", None)
    assert error.diag.message_primary == "you already reviewed every deal with this seller"
    assert api.one("seller_rating", seller.id)[1:3] == (1, 4)
    api.one("edit_review", user.token, review, 5, "Fast shipping, fair price")
    assert api.one("seller_rating", seller.id)[2] == 5
    assert api.rows("seller_reviews", seller.id, 10)[0][3] == "Fast shipping, fair price"
    api.fails("42501", "edit_review", seller.token, review, 1, "Fake")
    db.execute("update core.reviews set created_at = now() - interval '8 days' where id = %s", [review])
    api.fails("55000", "edit_review", user.token, review, 3, "Too late")


def test_review_and_deal_bad_inputs(api: Api, seller: User, user: User, public: int) -> None:
    api.one("confirm_deal", user.token, api.one("record_deal", seller.token, user.id, None))
    api.fails("BZ429", "record_deal", seller.token, user.id, None)  # one declared deal per pair per interval
    for rating in (0, 6, None):
        api.fails("22023", "review_seller", user.token, seller.id, rating, "Text", None)
    api.fails("22023", "review_seller", user.token, seller.id, 5, "", None)
    api.fails("22023", "review_seller", user.token, seller.id, 5, "x" * 2001, None)
    api.fails("22023", "record_deal", seller.token, seller.id, None)  # with yourself
    api.fails("P0002", "record_deal", seller.token, 10**9, None)
    api.fails("42501", "record_deal", user.token, seller.id, public)  # not your listing
    api.fails("P0002", "seller_rating", 10**9)
    assert api.one("seller_rating", user.id)[1] == 0  # no reviews yet


def test_one_platform_review_each(api: Api, user: User) -> None:
    api.one("review_platform", user.token, 5, "Found my part in a day")
    api.fails("23505", "review_platform", user.token, 4, "Second opinion")
    api.fails("22023", "review_platform", user.token, 9, "Out of range")


# -- chat -------------------------------------------------------------------------------------


def test_chat_posts_disable_and_soft_delete(
    api: Api, db: Conn, public: int, seller: User, user: User, moderator: User, make_user: MakeUser
) -> None:
    first = api.one("post_message", user.token, public, "Is it still available?")
    api.one("post_message", seller.token, public, "Yes")
    assert [r[3] for r in api.rows("chat_messages", public, None, None, 50)] == [
        "Yes",
        "Is it still available?",
    ]
    # the author deletes: gone for everyone but moderators
    api.one("delete_message", user.token, first)
    assert [r[3] for r in api.rows("chat_messages", public, None, None, 50)] == ["Yes"]
    staff_view = api.rows("chat_messages", public, moderator.token, None, 50)
    assert [(r[3], r[5]) for r in staff_view] == [("Yes", False), ("Is it still available?", True)]
    # the seller turns the chat off: nothing shows, nothing can be posted, the history stays
    api.one("set_chat_enabled", seller.token, public, False)
    assert api.rows("chat_messages", public, None, None, 50) == []
    assert len(api.rows("chat_messages", public, moderator.token, None, 50)) == 2
    api.fails("55000", "post_message", user.token, public, "Hello?")
    api.fails("42501", "set_chat_enabled", make_user("Stranger").token, public, True)
    api.one("set_chat_enabled", moderator.token, public, True)
    assert db.execute("select action from core.audit_log order by id desc limit 1").fetchone() == (
        "set_chat_enabled",
    )


def test_who_may_delete_is_an_admin_setting(
    api: Api, public: int, seller: User, user: User, admin: User
) -> None:
    message = api.one("post_message", user.token, public, "Cheaper elsewhere")
    api.one("set_setting", admin.token, "chat_delete_roles", Jsonb(["moderator"]))
    api.fails("42501", "delete_message", seller.token, message)  # listing owners may not any more
    api.fails("42501", "delete_message", user.token, message)
    api.fails("42501", "set_setting", user.token, "chat_delete_roles", Jsonb(["author"]))
    api.fails("22023", "set_setting", admin.token, "chat_delete_roles", Jsonb(["anyone"]))
    api.fails("22023", "set_setting", admin.token, "reservation_lifetime", Jsonb(15))
    api.fails("22023", "set_setting", admin.token, "reservation_lifetime", Jsonb("soon"))
    api.fails("P0002", "set_setting", admin.token, "no_such_setting", Jsonb(1))


def test_chat_flood_protection_and_bad_input(api: Api, public: int, user: User, listings: Listings,
                                             seller: User) -> None:  # fmt: skip
    for n in range(5):
        api.one("post_message", user.token, public, f"message {n}")
    error = api.fails("BZ429", "post_message", user.token, public, "one too many")
    assert error.diag.message_hint is not None
    api.fails("22023", "post_message", seller.token, public, "   ")
    api.fails("P0002", "post_message", seller.token, listings.create(seller, "part"), "on a draft")
    api.fails("28000", "post_message", None, public, "anonymous")
    api.fails("22023", "chat_messages", public, None, None, 0)


def test_blocked_user_cannot_chat(api: Api, db: Conn, public: int, user: User) -> None:
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'x' where id = %s", [user.id])
    api.fails("42501", "post_message", user.token, public, "hi")


def test_chat_messages_land_in_their_monthly_partition(api: Api, db: Conn, public: int, user: User) -> None:
    message = api.one("post_message", user.token, public, "partitioned")
    where = db.execute(
        "select tableoid::regclass::text from core.chat_messages where id = %s", [message]
    ).fetchone()
    month = db.execute("select to_char(now(), 'YYYY_MM')").fetchone()
    assert where is not None and month is not None and where[0] == f"core.chat_messages_{month[0]}"


# -- contact clicks ---------------------------------------------------------------------------


def test_opening_contacts_is_logged_counted_and_rolled_up(
    api: Api, db: Conn, public: int, seller: User, user: User
) -> None:
    name, phone, seller_id = api.one("open_contacts", public, user.token, None, "card")
    assert (name, phone, seller_id) == ("Seller", seller.phone, seller.id)
    api.one("open_contacts", public, None, "fp-anonymous-1", "search")
    api.one("open_contacts", public, user.token, None, "card")
    assert api.card(public)["contact_clicks"] == 3
    assert api.rows("listing_stats", seller.token, public, 30)[0][1] == 3
    where = db.execute("select distinct tableoid::regclass::text from core.contact_clicks "
                       "where listing_id = %s",
                       [public]).fetchall()  # fmt: skip
    month = db.execute("select to_char(now(), 'YYYY_MM')").fetchone()
    assert month is not None and where == [(f"core.contact_clicks_{month[0]}",)]
    # a message to everyone who clicked: one per distinct signed-in viewer
    assert api.one("notify_clickers", seller.token, public, "Price down to 4 500") == 1
    assert kinds(db, user).count("seller_message") == 2  # once, on each of the viewer's channels (email, sms)
    api.fails("42501", "notify_clickers", user.token, public, "spam")
    api.fails("42501", "listing_stats", user.token, public, 30)


def test_open_contacts_bad_inputs(api: Api, public: int, listings: Listings, seller: User) -> None:
    api.fails("22023", "open_contacts", public, None, None, "card")  # anonymous without a fingerprint
    api.fails("22023", "open_contacts", public, None, "short", "card")
    api.fails("22023", "open_contacts", public, None, "fingerprint-1", "Bad Source!")
    api.fails("P0002", "open_contacts", listings.create(seller, "part"), None, "fingerprint-1", "card")


def test_retention_drops_old_click_partitions(api: Api, db: Conn, public: int) -> None:
    old = db.execute("select date_trunc('month', now() - interval '14 months')::date").fetchone()
    assert old is not None
    name = f"contact_clicks_{old[0]:%Y_%m}"
    db.execute(
        f"create table core.{name} partition of core.contact_clicks "
        f"for values from ('{old[0]}') to ('{old[0]}'::date + interval '1 month')".encode()
    )
    db.execute("insert into core.contact_clicks (listing_id, fingerprint, source, clicked_at) "
               "values (%s, 'fingerprint-old', 'card', %s)", [public, old[0]])  # fmt: skip
    assert db.execute(f"select count(*) from core.{name}".encode()).fetchone() == (1,)
    result = db.execute("select ops.maintain_partitions()").fetchone()
    assert result is not None and result[0]["dropped"] == 1
    assert db.execute("select to_regclass(%s)", [f"core.{name}"]).fetchone() == (None,)


# -- saved searches and notifications ----------------------------------------------------------


def test_saved_search_and_category_watch_notify_once_on_publish(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    user: User,
    moderator: User,
    category: dict[str, int],
) -> None:
    api.one("save_search", user.token, "Bosch pads", "колодки bosch", Jsonb({"price_max": 1000000}))
    api.one("save_search", user.token, "Brakes", None, Jsonb({"category_id": category["brakes"]}))
    api.one("save_search", user.token, "Cars", None, Jsonb({"kind": "car"}))
    listing = listings.create(seller, "part", p_title="Колодки Bosch новые", p_brand="Bosch")
    before = kinds(db, user).count("saved_search_match")
    listings.publish(seller, moderator, listing)
    # matched after the approval's commit, by the job: the approval itself never runs a saved search
    assert kinds(db, user).count("saved_search_match") == before
    assert match_saved_searches(db) == {"listings": 1, "notified": 1, "failed": 0}
    # two of the user's searches match: one notification (on each of their two channels)
    assert kinds(db, user).count("saved_search_match") == before + 2
    assert "moderation_published" in kinds(db, seller)
    assert [r[1] for r in api.rows("saved_searches", user.token)] == ["Bosch pads", "Brakes", "Cars"]
    api.one("delete_saved_search", user.token, api.rows("saved_searches", user.token)[2][0])
    api.fails("P0002", "delete_saved_search", user.token, 10**9)


@pytest.mark.parametrize(
    ("query", "filters"),
    [(None, {}), ("x", {"colour": "red"}), ("x", {"kind": "boat"}), ("x", {"price_min": "cheap"}), ("x", [])],
)
def test_save_search_refuses_bad_filters(api: Api, user: User, query: str | None, filters: Any) -> None:
    api.fails("22023", "save_search", user.token, "Name", query, Jsonb(filters))


def test_price_drop_notifies_those_who_saved_the_listing(
    api: Api, db: Conn, public: int, seller: User, user: User
) -> None:
    api.one("add_favorite", user.token, public)
    api.one("open_contacts", public, user.token, None, "card")  # saved and clicked: still one notification
    api.one("open_contacts", public, None, "anonymous-fingerprint", "card")  # anonymous: cannot be reached
    api.one("change_price", seller.token, public, 140000, None, None)  # down from 150000
    api.one("change_price", seller.token, public, 145000, None, None)  # up: no notification
    drops = db.execute("select distinct payload from core.notifications "
                       "where user_id = %s and kind = 'price_drop'",
                       [user.id]).fetchall()  # fmt: skip
    assert [(p[0]["old_price"], p[0]["new_price"]) for p in drops] == [(150000, 140000)]
    per_channel = db.execute("select count(*) from core.notifications where kind = 'price_drop'").fetchone()
    assert per_channel == (2,)  # the one interested person, on each of their two channels


def test_notifications_go_to_each_preferred_channel(api: Api, db: Conn, public: int, seller: User,
                                                    user: User) -> None:  # fmt: skip
    api.one("set_notification_channels", user.token, ["email", "sms"])
    api.one("record_deal", seller.token, user.id, public)
    channels = db.execute("select channel::text from core.notifications where user_id = %s and kind = "
                          "'deal_confirmation_request' order by channel", [user.id]).fetchall()  # fmt: skip
    assert channels == [("email",), ("sms",)]


def test_claim_and_ack_bad_inputs(worker: Api) -> None:
    worker.fails("22023", "claim_notifications", "", 10)
    worker.fails("22023", "claim_notifications", "worker-1", 0)
    worker.fails("P0002", "ack_notification", 10**12, "worker-1")


def test_only_delivery_workers_reach_the_outbox(api: Api, worker: Api) -> None:
    # the outbox holds contacts and sign-in codes: applications may not read it
    api.fails("42501", "claim_notifications", "app", 10)
    api.fails("42501", "ack_notification", 1, "app")
    api.fails("42501", "outbox_stats")
    assert worker.one("outbox_stats") is not None
    worker.fails("42501", "me", "0" * 64)  # and workers only reach the outbox


def test_a_notification_that_keeps_failing_is_set_aside(api: Api, worker: Api, db: Conn, user: User) -> None:
    db.execute("update core.notifications set delivered_at = now() where delivered_at is null")
    db.execute("select core.notify(%s, 'first', '{}'), core.notify(%s, 'second', '{}')", [user.id, user.id])
    db.execute("update core.settings set value = '2' where key = 'outbox_max_attempts'")
    for _attempt in range(2):  # claimed twice, never acknowledged: the lease runs out each time
        kinds = [r[3] for r in worker.rows("claim_notifications", "flaky-worker", 100) if r[1] == user.id]
        assert kinds and set(kinds) == {"first"}, "the second must wait behind the first"
        db.execute("update core.notifications set claimed_until = now() - interval '1 second' "
                   "where claimed_by = 'flaky-worker' and delivered_at is null")  # fmt: skip
    kinds = [r[3] for r in worker.rows("claim_notifications", "flaky-worker", 100) if r[1] == user.id]
    assert set(kinds) == {"second"}, "the failed first one must stop holding the rest back"
    assert worker.one("outbox_stats")[3] >= 1  # failed


def test_rows_that_waited_in_the_default_partition_move_into_their_month(
    api: Api, db: Conn, public: int, user: User
) -> None:
    ahead = db.execute("select (date_trunc('month', now() at time zone 'UTC') + interval '5 months')::date")
    month = ahead.fetchone()
    assert month is not None
    db.execute("insert into core.contact_clicks (listing_id, fingerprint, source, clicked_at) "
               "values (%s, 'fingerprint-future', 'card', %s::date + 3)", [public, month[0]])  # fmt: skip
    assert db.execute("select tableoid::regclass::text from core.contact_clicks where fingerprint = "
                      "'fingerprint-future'").fetchone() == ("core.contact_clicks_default",)  # fmt: skip
    db.execute("set local timezone = 'America/New_York'")  # a client west of the server: same months
    created = db.execute("select ops.create_monthly_partitions('core.contact_clicks', 0, 6)").fetchone()
    assert created is not None and created[0] >= 2
    where = db.execute("select tableoid::regclass::text from core.contact_clicks where fingerprint = "
                       "'fingerprint-future'").fetchone()  # fmt: skip
    assert where == (f"core.contact_clicks_{month[0]:%Y_%m}",)
    result = db.execute("select ops.maintain_partitions()").fetchone()
    assert result is not None and result[0]["errors"] == []


def test_retention_drops_old_months_of_the_audit_log_chat_and_outbox_but_not_waiting_notifications(
    db: Conn, user: User
) -> None:
    starts: dict[str, Any] = {}

    def old_month(table: str, months: int) -> str:
        first = db.execute(
            "select date_trunc('month', now() - make_interval(months => %s))::date", [months]
        ).fetchone()
        assert first is not None
        name = f"{table}_{first[0]:%Y_%m}"
        db.execute(
            f"create table core.{name} partition of core.{table} "
            f"for values from ('{first[0]}') to ('{first[0]}'::date + interval '1 month')".encode()
        )
        starts[name] = first[0]
        return name

    audit = old_month("audit_log", 40)  # past audit_retention (3 years)
    kept_audit = old_month("audit_log", 30)
    chat = old_month("chat_messages", 14)  # past chat_retention (1 year)
    delivered = old_month("notifications", 5)  # past outbox_retention (90 days)
    waiting = old_month("notifications", 6)
    for name, done in ((delivered, "now()"), (waiting, "null")):
        db.execute(
            "insert into core.notifications (user_id, channel, kind, payload, created_at, delivered_at) "
            f"values (%s, 'email', 'test_kind', '{{}}', %s, {done})".encode(),
            [user.id, starts[name]],
        )
    result = db.execute("select ops.maintain_partitions()").fetchone()
    assert result is not None and result[0]["errors"] == []
    exists = {
        name: db.execute("select to_regclass(%s) is not null", [f"core.{name}"]).fetchone()
        for name in (audit, kept_audit, chat, delivered, waiting)
    }
    assert exists == {
        audit: (False,),
        kept_audit: (True,),
        chat: (False,),
        delivered: (False,),
        waiting: (True,),
    }
