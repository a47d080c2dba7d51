"""A small marketplace for the fuzzer to aim at: signed-in people of every kind and the things they
own, made through the api itself inside the caller's (rolled-back) transaction.

Every id made here is a target the fuzzer may pass to any function, so cross-account calls (a
buyer cancelling someone else's order, a seller editing another's listing) are tried as often as
nonsense ids are. ``World.background`` holds one call per api function that succeeds in this
world: the fuzzer's sweep changes one argument of it at a time, so each hostile value reaches the
body of the function instead of stopping at its first check.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.sql.conftest import CAR_ATTRIBUTES, PART_ATTRIBUTES, SERVICE_ATTRIBUTES, Api

Conn = psycopg.Connection[Any]
PASSWORD = "correct horse battery"
WORKER = "fuzz-worker"


@dataclass
class World:
    """Tokens by kind of person, every id and cursor the fuzzer may aim at, and a good call of
    each function."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)
    named: dict[str, int] = field(default_factory=dict)
    cursors: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    link_token: str = ""
    workers: list[str] = field(default_factory=lambda: [WORKER])
    background: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, kind: str, *ids: Any) -> None:
        self.ids.setdefault(kind, []).extend(int(i) for i in ids)

    def name(self, name: str, kind: str, value: Any) -> int:
        self.named[name] = int(value)
        self.add(kind, value)
        return int(value)

    def all_ids(self) -> list[int]:
        return sorted({i for ids in self.ids.values() for i in ids})


def _person(api: Api, db: Conn, world: World, kind: str, n: int, role: str = "user") -> tuple[int, str]:
    email, phone = f"fuzz{n}@example.com", f"+7999{n:07d}"
    user_id = world.name(kind, "user", api.one("register", f"Fuzz {kind}", PASSWORD, email, phone))
    if role != "user":
        db.execute("update core.users set role = %s where id = %s", [role, user_id])
    token = str(api.one("login", email, PASSWORD)[0])
    world.tokens[kind] = token
    world.phones.append(phone)
    world.emails.append(email)
    return user_id, token


def _id(db: Conn, query: str, *params: Any) -> int:
    row = db.execute(query.encode(), params).fetchone()
    assert row is not None, query
    return int(row[0])


def _listing_args(db: Conn, token: str, kind: str, **fields: Any) -> dict[str, Any]:
    category = {"part": "brake-pads", "car": "passenger-cars", "service": "machining"}[kind]
    kinds: dict[str, dict[str, Any]] = {
        "part": PART_ATTRIBUTES,
        "car": CAR_ATTRIBUTES,
        "service": SERVICE_ATTRIBUTES,
    }
    attributes = kinds[kind]
    args: dict[str, Any] = {
        "p_token": token,
        "p_kind": kind,
        "p_category_id": _id(db, "select id from core.categories where slug = %s", category),
        "p_title": f"Fuzz {kind}",
        "p_price_amount": 150000,
        "p_region": "Москва",
        "p_city": "Москва",
        "p_attributes": dict(attributes),
        "p_quantity": 5,
        **fields,
    }
    if kind == "car":
        args["p_model_id"] = _id(db, "select id from core.vehicle_models order by id limit 1")
    return args


def _listing(api: Api, db: Conn, token: str, kind: str, **fields: Any) -> int:
    args = _listing_args(db, token, kind, **fields)
    args["p_attributes"] = Jsonb(args["p_attributes"])
    return int(api.named("create_listing", **args))


def build(db: Conn) -> World:
    """Make the world in DB's open transaction (the caller rolls it back)."""
    db.execute("update core.settings set value = '4' where key = 'bcrypt_cost'")
    api = Api(db)
    worker = Api(db, "bazaar_worker")
    world = World()
    try:
        _build(db, api, worker, world)
    finally:
        api.close()
        worker.close()
    world.cursors += [
        _cursor({"s": "newest", "p": "x", "k": [1, 2]}),
        _cursor({"s": "price_asc", "k": ["x", 1]}),
        _cursor([]),
        _cursor({"s": "relevance", "p": False, "k": ["NaN", "1e99"]}),
        "not base64!",
        "",
        "eyJ9",
    ]
    world.background = background(db, world)
    return world


def _build(db: Conn, api: Api, worker: Api, world: World) -> None:
    buyer, buyer_token = _person(api, db, world, "buyer", 1)
    seller, seller_token = _person(api, db, world, "seller", 2)
    _, moderator_token = _person(api, db, world, "moderator", 3, "moderator")
    _, admin_token = _person(api, db, world, "admin", 4, "admin")
    other, other_token = _person(api, db, world, "other_seller", 5)
    blocked, _ = _person(api, db, world, "blocked", 6)
    api.rows("link_telegram", buyer_token, 7001, world.phones[0])
    api.rows("link_telegram", seller_token, 7002, world.phones[1])
    api.rows("request_sign_in_code", world.phones[1])  # a code waits for the seller
    api.rows("request_password_reset", world.emails[1])  # and a password reset code
    world.link_token = api.rows("request_telegram_link", buyer_token, PASSWORD)[0][
        0
    ]  # a link the bot may see
    worker.rows("telegram_poll", WORKER)  # this worker reads the bot's updates

    shop = world.name("shop", "shop", api.one("create_shop", seller_token, "Fuzz Parts", "a shop"))
    api.rows("add_shop_member", seller_token, shop, other, "seller")

    # before the publications, so they make channel posts
    world.name(
        "channel", "channel", api.one("create_channel", moderator_token, "Fuzz channel", -100777, None, None)
    )
    for name, kind, token, extra in (
        ("shop_part", "part", seller_token, {"p_shop_id": shop}),
        ("car", "car", seller_token, {}),
        (
            "other_part",
            "part",
            other_token,
            {"p_wholesale_price_amount": 100000, "p_wholesale_min_quantity": 3},
        ),
    ):
        listing = world.name(name, "listing", _listing(api, db, token, kind, **extra))
        api.rows("submit_listing", token, listing)
        api.rows("approve_listing", moderator_token, listing)
    world.name("draft", "listing", _listing(api, db, seller_token, "service"))
    pending = world.name("pending", "listing", _listing(api, db, other_token, "part"))
    api.rows("submit_listing", other_token, pending)
    model = world.name("model", "model", _id(db, "select id from core.vehicle_models order by id limit 1"))
    api.rows("add_fitment", seller_token, world.named["shop_part"], model, 2010, 2015)

    api.rows("add_favorite", buyer_token, world.named["shop_part"])
    api.rows("react", buyer_token, world.named["shop_part"], "like")
    api.rows("open_contacts", world.named["shop_part"], buyer_token, None, "card")
    world.name(
        "message",
        "message",
        api.one("post_message", buyer_token, world.named["shop_part"], "Still for sale?"),
    )
    api.rows("cart_add", buyer_token, world.named["other_part"], 2)
    world.name(
        "reserved_order", "order", api.one("create_order", buyer_token, world.named["shop_part"], 1, "k1")[0]
    )
    paid = world.name(
        "paid_order", "order", api.one("create_order", buyer_token, world.named["car"], 1, None)[0]
    )
    api.rows("pay_order", seller_token, paid)
    deal = world.name("deal", "deal", _id(db, "select id from core.deals where order_id = %s", paid))
    world.name("review", "review", api.one("review_seller", buyer_token, seller, 5, "Great", deal))
    confirmed = world.name("confirmed_deal", "deal", api.one("record_deal", other_token, buyer, None))
    api.rows("confirm_deal", buyer_token, confirmed)
    world.name("declared_deal", "deal", api.one("record_deal", seller_token, buyer, world.named["car"]))
    promotion = api.one("buy_promotion", seller_token, world.named["car"], 3, None)[0]
    world.name("promotion_order", "promotion_order", promotion)  # reserved: the admin may pay it
    world.name(
        "saved_search",
        "saved_search",
        api.one("save_search", buyer_token, "brakes", "колодки", Jsonb({"kind": "part"})),
    )
    api.rows("block_user", admin_token, blocked, "spam, for the fuzzer")

    claimed = [row[0] for row in worker.rows("claim_notifications", WORKER, 5)]
    world.name("notification", "notification", claimed[0])
    world.add("notification", *claimed)
    # one set aside as failed at once (a blocked bot, say): the dead letter of the fuzz world
    worker.rows("fail_notification", claimed[-1], WORKER, "HTTP 403: bot was blocked by the user", True)
    world.name("dead_letter", "notification", claimed[-1])
    posts = [row[0] for row in worker.rows("claim_channel_posts", WORKER, 5)]
    world.name("channel_post", "notification", posts[0])
    world.add("category", *(r[0] for r in db.execute("select id from core.categories order by id")))
    world.add("model", *(r[0] for r in db.execute("select id from core.vehicle_models order by id limit 20")))
    world.add("make", *(r[0] for r in db.execute("select id from core.vehicle_makes order by id limit 10")))
    for search in ({"p_sort": "newest"}, {"p_sort": "price_asc"}, {"p_query": "колодки"}):
        world.cursors += [str(r["next_cursor"]) for r in api.search(**search, p_limit=1)]


def background(db: Conn, world: World) -> dict[str, dict[str, Any]]:
    """A call of each api function that succeeds in WORLD (tests/fuzz checks they do)."""
    n = world.named
    buyer, seller, moderator, admin = (world.tokens[k] for k in ("buyer", "seller", "moderator", "admin"))
    soon = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    brake_pads = _id(db, "select id from core.categories where slug = 'brake-pads'")
    return {
        "register": {
            "p_display_name": "New person",
            "p_password": PASSWORD,
            "p_email": "new@example.com",
            "p_phone": "+79160000001",
        },
        "login": {"p_identifier": world.emails[0], "p_password": PASSWORD},
        "logout": {"p_token": buyer},
        "logout_everywhere": {"p_token": buyer},
        "me": {"p_token": buyer},
        "user_profile": {"p_user_id": n["seller"]},
        "set_notification_channels": {"p_token": buyer, "p_channels": ["email", "telegram"]},
        "link_telegram": {
            "p_token": world.tokens["other_seller"],
            "p_chat_id": 7005,
            "p_phone": world.phones[4],
        },
        "request_sign_in_code": {"p_phone": world.phones[0]},
        "sign_in_with_code": {"p_phone": world.phones[1], "p_code": "123456"},
        "change_password": {
            "p_token": buyer,
            "p_old_password": PASSWORD,
            "p_new_password": "a new passphrase",
        },
        "request_password_reset": {"p_identifier": world.emails[0]},
        "reset_password": {
            "p_identifier": world.emails[1],
            "p_code": "123456",
            "p_new_password": "a new passphrase",
        },
        "create_shop": {"p_token": buyer, "p_name": "Новый магазин", "p_description": "Запчасти"},
        "update_shop_description": {"p_token": seller, "p_shop_id": n["shop"], "p_description": "Новое"},
        "shop_profile": {"p_shop_id": n["shop"]},
        "my_shops": {"p_token": seller},
        "shop_members": {"p_token": seller, "p_shop_id": n["shop"]},
        "invite_shop_member": {
            "p_token": seller,
            "p_shop_id": n["shop"],
            "p_identifier": world.emails[0],
            "p_role": "manager",
        },
        "shop_inventory": {"p_token": seller, "p_shop_id": n["shop"], "p_status": "published", "p_limit": 10},
        "shop_orders": {"p_token": seller, "p_shop_id": n["shop"], "p_limit": 10},
        "my_deals": {"p_token": buyer, "p_limit": 10},
        "add_shop_member": {
            "p_token": seller,
            "p_shop_id": n["shop"],
            "p_user_id": n["buyer"],
            "p_role": "seller",
        },
        "set_shop_member_role": {
            "p_token": seller,
            "p_shop_id": n["shop"],
            "p_user_id": n["other_seller"],
            "p_role": "manager",
        },
        "remove_shop_member": {"p_token": seller, "p_shop_id": n["shop"], "p_user_id": n["other_seller"]},
        "set_user_role": {
            "p_token": admin,
            "p_user_id": n["buyer"],
            "p_role": "moderator",
            "p_reason": "trusted",
        },
        "block_user": {"p_token": admin, "p_user_id": n["buyer"], "p_reason": "spam"},
        "unblock_user": {"p_token": admin, "p_user_id": n["blocked"], "p_reason": "appeal"},
        "audit_log": {"p_token": admin, "p_limit": 10},
        "create_listing": _listing_args(
            db,
            seller,
            "car",
            p_description="Хорошее состояние",
            p_brand="Toyota",
            p_tags=["седан"],
            p_photos=["cars/1.jpg"],
            p_contact_name="Иван",
        ),
        "edit_listing": {
            "p_token": seller,
            "p_listing_id": n["car"],
            "p_changes": {
                "title": "Toyota Camry 2018",
                "attributes": dict(CAR_ATTRIBUTES),
                "quantity": 4,
                "tags": ["седан"],
                "brand": "Toyota",
            },
        },
        "submit_listing": {"p_token": seller, "p_listing_id": n["draft"]},
        "archive_listing": {"p_token": seller, "p_listing_id": n["car"]},
        "mark_listing_sold": {"p_token": seller, "p_listing_id": n["car"]},
        "bump_listing": {"p_token": seller, "p_listing_id": n["car"]},
        "change_price": {"p_token": seller, "p_listing_id": n["car"], "p_price_amount": 140000},
        "price_history": {"p_listing_id": n["car"]},
        "listing_history": {"p_token": seller, "p_listing_id": n["car"]},
        "my_listings": {"p_token": seller, "p_status": "published"},
        "add_fitment": {
            "p_token": seller,
            "p_listing_id": n["shop_part"],
            "p_model_id": n["model"],
            "p_year_from": 2016,
            "p_year_to": 2020,
        },
        "remove_fitment": {
            "p_token": seller,
            "p_listing_id": n["shop_part"],
            "p_model_id": n["model"],
            "p_year_from": 2010,
        },
        "moderation_queue": {"p_token": moderator, "p_limit": 10},
        "approve_listing": {"p_token": moderator, "p_listing_id": n["pending"]},
        "reject_listing": {"p_token": moderator, "p_listing_id": n["pending"], "p_reason": "фото не по теме"},
        "promote_listing": {"p_token": moderator, "p_listing_id": n["car"], "p_until": soon},
        "set_ad_insert": {"p_token": moderator, "p_listing_id": n["car"], "p_text": "Кредит 0%"},
        "create_ad_campaign": {
            "p_token": moderator,
            "p_category_id": brake_pads,
            "p_title": "Распродажа",
            "p_body": "Скидки на колодки",
            "p_ends_at": soon,
        },
        "react": {"p_token": buyer, "p_listing_id": n["car"], "p_reaction": "like"},
        "add_favorite": {"p_token": buyer, "p_listing_id": n["car"]},
        "remove_favorite": {"p_token": buyer, "p_listing_id": n["shop_part"]},
        "favorites": {"p_token": buyer},
        "listing_card": {"p_listing_id": n["car"], "p_token": seller},
        "search": {"p_query": "колодки", "p_kind": "part", "p_limit": 10},
        "search_facets": {"p_query": "колодки"},
        "seller_listings": {"p_user_id": n["seller"], "p_limit": 10},
        "shop_listings": {"p_shop_id": n["shop"], "p_limit": 10},
        "categories": {},
        "category_attributes": {"p_category_id": brake_pads},
        "vehicle_models": {"p_make": "Toyota"},
        "create_order": {
            "p_token": buyer,
            "p_listing_id": n["other_part"],
            "p_quantity": 3,
            "p_idempotency_key": "fuzz-order",
        },
        "pay_order": {"p_token": seller, "p_order_id": n["reserved_order"]},
        "cancel_order": {"p_token": buyer, "p_order_id": n["reserved_order"], "p_reason": "передумал"},
        "order_details": {"p_token": buyer, "p_order_id": n["paid_order"]},
        "my_orders": {"p_token": buyer, "p_as": "buyer"},
        "cart_add": {"p_token": buyer, "p_listing_id": n["shop_part"], "p_quantity": 1},
        "cart_set": {"p_token": buyer, "p_listing_id": n["other_part"], "p_quantity": 3},
        "cart_remove": {"p_token": buyer, "p_listing_id": n["other_part"]},
        "cart": {"p_token": buyer},
        "checkout": {"p_token": buyer, "p_idempotency_key": "fuzz-checkout"},
        "record_deal": {"p_token": seller, "p_buyer_id": n["other_seller"], "p_listing_id": n["car"]},
        "confirm_deal": {"p_token": buyer, "p_deal_id": n["declared_deal"]},
        "review_seller": {"p_token": buyer, "p_seller_id": n["other_seller"], "p_rating": 4, "p_body": "Ок"},
        "edit_review": {"p_token": buyer, "p_review_id": n["review"], "p_rating": 4, "p_body": "Хорошо"},
        "review_platform": {"p_token": buyer, "p_rating": 5, "p_body": "Удобно"},
        "seller_rating": {"p_user_id": n["seller"]},
        "seller_reviews": {"p_user_id": n["seller"], "p_limit": 10},
        "post_message": {"p_token": buyer, "p_listing_id": n["car"], "p_body": "Торг уместен?"},
        "chat_messages": {"p_listing_id": n["shop_part"], "p_token": buyer, "p_limit": 10},
        "set_chat_enabled": {"p_token": seller, "p_listing_id": n["car"], "p_enabled": False},
        "delete_message": {"p_token": buyer, "p_message_id": n["message"]},
        "open_contacts": {"p_listing_id": n["car"], "p_token": buyer, "p_source": "card"},
        "notify_clickers": {"p_token": seller, "p_listing_id": n["shop_part"], "p_message": "Цена снижена"},
        "listing_stats": {"p_token": seller, "p_listing_id": n["shop_part"], "p_days": 30},
        "claim_notifications": {"p_worker": WORKER, "p_batch": 10},
        "claim_channel_posts": {"p_worker": WORKER, "p_batch": 10},
        "ack_notification": {"p_id": n["notification"], "p_worker": WORKER, "p_provider_message_id": "m-1"},
        "sending_notification": {"p_id": n["notification"], "p_worker": WORKER},
        "fail_notification": {"p_id": n["notification"], "p_worker": WORKER, "p_error": "HTTP 502"},
        "dead_letters": {"p_limit": 10},
        "dead_letter": {"p_id": n["dead_letter"]},
        "retry_dead_letter": {"p_id": n["dead_letter"]},
        "channel_post_delivered": {
            "p_worker": WORKER,
            "p_notification_id": n["channel_post"],
            "p_telegram_message_id": 42,
            "p_photo": "listings/1/front.jpg",
        },
        "outbox_stats": {},
        "places": {"p_kind": "part"},
        "buy_promotion": {"p_token": seller, "p_listing_id": n["car"], "p_days": 3},
        "pay_promotion": {"p_token": admin, "p_promotion_order_id": n["promotion_order"]},
        "cancel_promotion": {"p_token": seller, "p_promotion_order_id": n["promotion_order"]},
        "my_promotions": {"p_token": seller},
        "sign_in": {"p_identifier": world.emails[0], "p_password": PASSWORD},
        "request_telegram_link": {"p_token": world.tokens["other_seller"], "p_password": PASSWORD},
        "telegram_poll": {"p_worker": WORKER},
        "telegram_polled": {"p_worker": WORKER, "p_next_update_id": 1},
        "telegram_start": {"p_link_token": world.link_token, "p_chat_id": 7001},
        "telegram_contact": {"p_chat_id": 7001, "p_phone": world.phones[0], "p_contact_user_id": 7001},
        "queue_operator_alerts": {
            "p_alerts": [
                {"status": "firing", "labels": {"alertname": "BazaarNoLeader", "severity": "critical"}}
            ]
        },
        "create_channel": {
            "p_token": moderator,
            "p_name": "Казань: запчасти",
            "p_telegram_chat_id": -100999,
            "p_region": "Татарстан",
            "p_category_id": brake_pads,
        },
        "set_channel_active": {"p_token": moderator, "p_channel_id": n["channel"], "p_active": False},
        "channels": {"p_token": moderator},
        "channel_posts": {"p_listing_id": n["car"], "p_token": seller},
        "save_search": {
            "p_token": buyer,
            "p_name": "Camry",
            "p_query": "camry",
            "p_filters": {"kind": "car", "year": 2018, "price_max": 2_000_000_00},
        },
        "saved_searches": {"p_token": buyer},
        "delete_saved_search": {"p_token": buyer, "p_saved_search_id": n["saved_search"]},
        "set_setting": {"p_token": admin, "p_key": "chat_flood_limit", "p_value": 10},
        "settings": {"p_token": admin},
    }


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
