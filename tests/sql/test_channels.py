"""Telegram channel posts: channels staff configure, a post per matching channel on publication,
edits for what the channel shows (never for a price-only change), sold marks, delivery reports
that record the channel message id, and the site-versus-channel comparison."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.harness import as_role
from tests.sql.conftest import Api, Listings, MakeUser, User

Conn = psycopg.Connection[Any]
WORKER = "tg-worker"


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


@pytest.fixture
def channels(api: Api, moderator: User, category: dict[str, int]) -> dict[str, int]:
    """Moscow (region), brakes (category subtree), Moscow filters (both), Kazan, and an inactive one."""
    made = {
        "moscow": api.one("create_channel", moderator.token, "Москва: всё", -1001, "Москва", None),
        "brakes": api.one("create_channel", moderator.token, "Тормоза", -1002, None, category["brakes"]),
        "moscow_filters": api.one(
            "create_channel", moderator.token, "Фильтры Москва", -1003, "москва", category["filters"]
        ),
        "kazan": api.one("create_channel", moderator.token, "Казань", -1004, "Казань", None),
        "off": api.one("create_channel", moderator.token, "Выключен", -1005, None, None),
    }
    api.one("set_channel_active", moderator.token, made["off"], False)
    return made


def outbox(db: Conn, listing_id: int) -> list[tuple[str, int, bool]]:
    """The channel outbox rows of a listing: (kind, channel id, marked sold), oldest first."""
    rows = db.execute(
        "select n.kind, p.channel_id, (n.payload ->> 'marked_sold')::boolean from core.notifications as n "
        "join core.channel_posts as p on p.id = n.channel_post_id where p.listing_id = %s order by n.id",
        [listing_id],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def posts(api: Api, listing_id: int, token: str | None = None) -> list[dict[str, Any]]:
    with as_role(api.db, api.role), api.db.cursor(row_factory=dict_row) as cur:
        return cur.execute("select * from api.channel_posts(%s, %s)", [listing_id, token]).fetchall()


def claim(api: Api, function: str = "claim_channel_posts") -> list[dict[str, Any]]:
    with as_role(api.db, api.role), api.db.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"select * from api.{function}(%s, 100)".encode(), [WORKER]).fetchall()


def deliver_all(worker: Api) -> int:
    """Play the worker: claim and report until the channel outbox is empty; returns how many."""
    delivered = 0
    for _ in range(20):
        batch = claim(worker)
        if not batch:
            return delivered
        for row in batch:
            message_id = row["payload"]["telegram_message_id"] or 7000 + row["notification_id"]
            worker.one("channel_post_delivered", WORKER, row["notification_id"], message_id)
            delivered += 1
    raise AssertionError("the channel outbox did not drain")


def published(listings: Listings, seller: User, moderator: User, **fields: Any) -> int:
    return listings.publish(seller, moderator, listings.create(seller, "part", p_quantity=2, **fields))


def test_publishing_queues_a_post_in_each_matching_active_channel(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, channels: dict[str, int],
    category: dict[str, int],
) -> None:  # fmt: skip
    pads = published(listings, seller, moderator)  # brake pads in Москва
    assert outbox(db, pads) == [("channel_post", channels["moscow"], False),
                                ("channel_post", channels["brakes"], False)]  # fmt: skip
    oil = published(
        listings, seller, moderator, p_category_id=category["filters"], p_region="Казань", p_city="Казань",
        p_attributes=Jsonb({"part_number": "W 712", "condition": "new"}),
    )  # fmt: skip
    assert outbox(db, oil) == [("channel_post", channels["kazan"], False)]
    draft = listings.create(seller)
    assert outbox(db, draft) == []  # a draft is not posted


def test_the_worker_posts_and_reports_the_channel_message_id(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    moderator: User,
    channels: dict[str, int],
    worker: Api,
) -> None:
    pads = published(listings, seller, moderator, p_title="Колодки Brembo")
    batch = claim(worker)
    assert {(r["kind"], r["destination"], r["user_id"]) for r in batch} == {
        ("channel_post", "-1001", None), ("channel_post", "-1002", None)}  # fmt: skip
    assert all(r["payload"]["snapshot"]["title"] == "Колодки Brembo" for r in batch)
    assert all(r["payload"]["telegram_message_id"] is None for r in batch)
    before = posts(api, pads)
    assert [p["channel_shows"] for p in before] == [None, None]  # nothing delivered yet
    assert [p["pending_updates"] for p in before] == [1, 1]
    for n, row in enumerate(batch):
        worker.one("channel_post_delivered", WORKER, row["notification_id"], 500 + n)
        worker.one("channel_post_delivered", WORKER, row["notification_id"], 500 + n)  # twice is harmless
    after = posts(api, pads)
    assert sorted(p["telegram_message_id"] for p in after) == [500, 501]
    assert all(p["differences"] == [] and p["pending_updates"] == 0 for p in after)
    assert after[0]["channel_shows"] == after[0]["site_shows"]


def test_a_price_only_change_queues_no_post_edit_and_shows_as_a_difference(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    moderator: User,
    channels: dict[str, int],
    worker: Api,
) -> None:
    pads = published(listings, seller, moderator)
    deliver_all(worker)
    queued = len(outbox(db, pads))
    api.one("change_price", seller.token, pads, 99000, None, None)
    assert len(outbox(db, pads)) == queued  # the channel post is left alone
    assert claim(worker) == []
    assert [p["differences"] for p in posts(api, pads)] == [["price_amount"], ["price_amount"]]
    assert posts(api, pads)[0]["site_shows"]["price_amount"] == 99000


def test_a_title_description_or_photo_change_queues_an_edit(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    moderator: User,
    channels: dict[str, int],
    worker: Api,
) -> None:
    pads = published(listings, seller, moderator)
    deliver_all(worker)
    assert api.one("edit_listing", seller.token, pads, Jsonb({"title": "Колодки Brembo новые"})) == (
        "pending_review"
    )
    assert claim(worker) == []  # nothing reaches a channel before a moderator approves it
    assert api.one("approve_listing", moderator.token, pads) == "edit_approved"
    edits = claim(worker)
    assert [(r["kind"], r["payload"]["snapshot"]["title"]) for r in edits] == [
        ("channel_post_edit", "Колодки Brembo новые")] * 2  # fmt: skip
    assert sorted(r["payload"]["telegram_message_id"] for r in edits) == sorted(
        p["telegram_message_id"] for p in posts(api, pads))  # the edit names the message to edit  # fmt: skip
    for row in edits:
        worker.one(
            "channel_post_delivered", WORKER, row["notification_id"], row["payload"]["telegram_message_id"]
        )
    assert [p["channel_shows"]["title"] for p in posts(api, pads)] == ["Колодки Brembo новые"] * 2
    api.one("edit_listing", seller.token, pads, Jsonb({"description": "Пара на ось"}))
    api.one("approve_listing", moderator.token, pads)
    api.one("edit_listing", seller.token, pads, Jsonb({"photos": ["p/1.jpg"]}))
    api.one("approve_listing", moderator.token, pads)
    assert [k for k, _, _ in outbox(db, pads)][-4:] == ["channel_post_edit"] * 4
    api.one("edit_listing", seller.token, pads, Jsonb({"quantity": 5}))  # not shown in the channel
    assert len(outbox(db, pads)) == 2 + 2 + 4


def test_selling_and_archiving_mark_the_post_sold_and_a_reservation_shows(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, channels: dict[str, int],
    make_user: MakeUser,
) -> None:  # fmt: skip
    pads = published(listings, seller, moderator)
    buyer = make_user("Buyer")
    order = api.one("create_order", buyer.token, pads, 2, None)[0]  # every unit held: reserved
    assert outbox(db, pads)[-2:] == [("channel_post_edit", channels["moscow"], False),
                                     ("channel_post_edit", channels["brakes"], False)]  # fmt: skip
    shown = db.execute(
        "select payload -> 'snapshot' ->> 'status' from core.notifications "
        "where channel_post_id is not null order by id desc limit 1"
    ).fetchone()
    assert shown == ("reserved",)
    api.one("pay_order", seller.token, order)  # the last units paid: sold
    assert outbox(db, pads)[-2:] == [("channel_post_edit", channels["moscow"], True),
                                     ("channel_post_edit", channels["brakes"], True)]  # fmt: skip
    other = published(listings, seller, moderator)
    api.one("archive_listing", seller.token, other)
    assert [sold for _, _, sold in outbox(db, other)] == [False, False, True, True]


def test_republishing_edits_the_existing_posts_back_on_sale(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, channels: dict[str, int]
) -> None:
    pads = published(listings, seller, moderator)
    api.one("archive_listing", seller.token, pads)
    listings.publish(seller, moderator, pads)
    assert [(k, sold) for k, _, sold in outbox(db, pads)] == [
        ("channel_post", False), ("channel_post", False), ("channel_post_edit", True),
        ("channel_post_edit", True), ("channel_post_edit", False), ("channel_post_edit", False)]  # fmt: skip
    assert db.execute("select count(*) from core.channel_posts where listing_id = %s", [pads]).fetchone() == (
        2,
    )


def test_one_posts_rows_go_out_in_order_and_only_to_channel_workers(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    moderator: User,
    channels: dict[str, int],
    worker: Api,
) -> None:
    pads = published(listings, seller, moderator)
    api.one("edit_listing", seller.token, pads, Jsonb({"title": "Другое название"}))
    api.one("approve_listing", moderator.token, pads)
    db.execute("update core.notifications set delivered_at = now() where channel_post_id is null")
    # a worker of user notifications never gets channel rows it could not acknowledge
    assert claim(worker, "claim_notifications") == []
    first = claim(worker)
    assert [r["kind"] for r in first] == ["channel_post", "channel_post"]  # edits wait for their post
    for row in first:
        worker.one("channel_post_delivered", WORKER, row["notification_id"], 100 + row["notification_id"])
    assert [r["kind"] for r in claim(worker)] == ["channel_post_edit"] * 2


def test_edits_off_the_market_never_reach_a_channel(
    api: Api, listings: Listings, seller: User, moderator: User, channels: dict[str, int], worker: Api
) -> None:
    pads = published(listings, seller, moderator)
    deliver_all(worker)
    api.one("archive_listing", seller.token, pads)
    api.one("edit_listing", seller.token, pads, Jsonb({"title": "SPAM visit scam site", "photos": ["x.jpg"]}))
    shown = [r["payload"]["snapshot"] for r in claim(worker)]
    assert shown and all(s["status"] == "sold" and s["title"] != "SPAM visit scam site" for s in shown)
    assert all(s["photos"] != ["x.jpg"] for s in shown)


def test_delivery_report_refusals(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    moderator: User,
    channels: dict[str, int],
    worker: Api,
) -> None:
    published(listings, seller, moderator)
    row = claim(worker)[0]
    worker.fails("22023", "channel_post_delivered", WORKER, row["notification_id"], 0)
    worker.fails("22023", "channel_post_delivered", WORKER, row["notification_id"], None)
    worker.fails("22023", "channel_post_delivered", WORKER, row["notification_id"], 1, "")
    worker.fails("22023", "channel_post_delivered", WORKER, row["notification_id"], 1, "x" * 257)
    worker.fails("P0002", "channel_post_delivered", WORKER, 10**12, 1)
    worker.fails("55000", "channel_post_delivered", "another-worker", row["notification_id"], 1)
    worker.fails("55000", "ack_notification", row["notification_id"], WORKER)  # a channel post needs its id
    user_row = db.execute(
        "select core.notify(%s, 'test', '{}'), (select max(id) from core.notifications where user_id = %s)",
        [seller.id, seller.id],
    ).fetchone()
    assert user_row is not None
    worker.fails("55000", "channel_post_delivered", WORKER, user_row[1], 1)  # not a channel post
    worker.fails("22023", "claim_channel_posts", "", 10)
    worker.fails("22023", "claim_channel_posts", WORKER, 0)


def test_channel_management_by_staff_only_and_its_bad_inputs(
    api: Api, db: Conn, moderator: User, admin: User, user: User, category: dict[str, int],
    channels: dict[str, int],
) -> None:  # fmt: skip
    listed = api.rows("channels", admin.token)
    assert [(r[1], r[6]) for r in listed][-1] == ("Выключен", False)
    api.fails("42501", "create_channel", user.token, "Мой канал", -2001, None, None)
    api.fails("42501", "set_channel_active", user.token, channels["moscow"], False)
    api.fails("42501", "channels", user.token)
    api.fails("28000", "create_channel", "bad-token", "Мой канал", -2001, None, None)
    api.fails("22023", "create_channel", moderator.token, "x", -2001, None, None)
    api.fails("22023", "create_channel", moderator.token, "Канал", 0, None, None)
    api.fails("22023", "create_channel", moderator.token, "Канал", None, None, None)
    api.fails("22023", "create_channel", moderator.token, "Канал", -2001, "x", None)
    api.fails("22023", "create_channel", moderator.token, "Канал", -2001, None, 10**9)
    api.fails("23505", "create_channel", moderator.token, "москва: ВСЁ", -2001, None, None)
    api.fails("23505", "create_channel", moderator.token, "Новый", -1001, None, None)
    api.fails("22023", "set_channel_active", moderator.token, channels["moscow"], None)
    api.fails("P0002", "set_channel_active", moderator.token, 10**9, True)
    assert api.one("set_channel_active", moderator.token, channels["off"], True) is True
    audit = db.execute("select count(*) from core.audit_log where action like '%%channel'").fetchone()
    assert audit is not None and audit[0] >= 7


def test_channel_posts_of_an_unpublished_listing_are_for_its_seller_side_only(
    api: Api, listings: Listings, seller: User, user: User
) -> None:
    draft = listings.create(seller)
    api.fails("P0002", "channel_posts", draft)
    api.fails("P0002", "channel_posts", draft, user.token)
    api.fails("P0002", "channel_posts", 10**9)
    assert api.rows("channel_posts", draft, seller.token) == []
