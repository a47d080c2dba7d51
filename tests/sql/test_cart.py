"""The cart and its checkout: one order per seller, every line reserved or none, the failing lines
named, idempotent retries, and orders of several lines that pay, cancel and expire together."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.sql.conftest import Api, Listings, MakeUser, User

Conn = psycopg.Connection[Any]


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


@pytest.fixture
def other_seller(make_user: MakeUser) -> User:
    return make_user("Other seller")


@pytest.fixture
def buyer(make_user: MakeUser) -> User:
    return make_user("Buyer")


def stock(db: Conn, listing_id: int) -> tuple[int, int, str]:
    row = db.execute(
        "select quantity, reserved_quantity, status::text from core.listings where id = %s", [listing_id]
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def on_sale(listings: Listings, seller: User, moderator: User, quantity: int = 5, **fields: Any) -> int:
    return listings.publish(
        seller,
        moderator,
        listings.create(seller, "part", p_quantity=quantity, p_price_amount=10000, **fields),
    )


def cart(api: Api, user: User) -> dict[int, dict[str, Any]]:
    keys = ["listing_id", "title", "seller_id", "shop_id", "quantity", "unit_price_amount", "wholesale",
            "line_amount", "currency", "available", "listing_status", "problem",
            "problem_reason"]  # fmt: skip
    return {r[0]: dict(zip(keys, r, strict=True)) for r in api.rows("cart", user.token)}


def checkout(api: Api, user: User, key: str | None = None) -> list[dict[str, Any]]:
    keys = ["order_id", "seller_id", "shop_id", "total_amount", "currency", "line_count", "reserved_until",
            "created"]  # fmt: skip
    return [dict(zip(keys, r, strict=True)) for r in api.rows("checkout", user.token, key)]


def test_cart_add_set_remove_and_show_with_prices(
    api: Api, listings: Listings, seller: User, moderator: User, buyer: User
) -> None:
    wholesale = on_sale(
        listings, seller, moderator, 10, p_wholesale_price_amount=8000, p_wholesale_min_quantity=3
    )
    plain = on_sale(listings, seller, moderator)
    assert api.one("cart_add", buyer.token, wholesale, 2) == 2
    assert api.one("cart_add", buyer.token, plain, 1) == 1
    shown = cart(api, buyer)
    assert (shown[wholesale]["unit_price_amount"], shown[wholesale]["wholesale"]) == (10000, False)
    assert api.one("cart_add", buyer.token, wholesale, 1) == 3  # added to what is there
    shown = cart(api, buyer)
    assert (shown[wholesale]["unit_price_amount"], shown[wholesale]["line_amount"]) == (8000, 24000)
    assert shown[wholesale]["wholesale"] and shown[wholesale]["available"] == 10
    assert shown[wholesale]["problem"] is None
    assert api.one("cart_set", buyer.token, plain, 4) == 4
    assert cart(api, buyer)[plain]["line_amount"] == 40000
    api.one("cart_remove", buyer.token, plain)
    assert list(cart(api, buyer)) == [wholesale]


def test_cart_shows_the_problem_checkout_would_have(
    api: Api, listings: Listings, seller: User, moderator: User, buyer: User
) -> None:
    listing = on_sale(listings, seller, moderator, 2)
    api.one("cart_add", buyer.token, listing, 3)
    assert cart(api, buyer)[listing]["problem"] == "not enough stock: 2 of 3 available"


def test_cart_bad_inputs_and_refusals(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, buyer: User
) -> None:
    listing = on_sale(listings, seller, moderator)
    for bad in (0, -1, 100001, None):
        api.fails("22023", "cart_add", buyer.token, listing, bad)
        api.fails("22023", "cart_set", buyer.token, listing, bad)
    api.fails("28000", "cart_add", "not-a-token", listing, 1)
    api.fails("28000", "cart", "not-a-token")
    api.fails("28000", "checkout", "not-a-token", None)
    api.fails("P0002", "cart_add", buyer.token, 10**9, 1)
    api.fails("55000", "cart_add", seller.token, listing, 1)  # own listing
    api.fails("P0002", "cart_add", buyer.token, listings.create(seller, "part"), 1)  # a draft: not public
    api.fails("P0002", "cart_set", buyer.token, listing, 1)  # not in the cart
    api.fails("P0002", "cart_remove", buyer.token, listing)
    api.one("cart_add", buyer.token, listing, 100000)
    api.fails("22023", "cart_add", buyer.token, listing, 1)  # over the maximum in total
    db.execute("update core.settings set value = '1' where key = 'cart_max_lines'")
    api.fails("55000", "cart_add", buyer.token, on_sale(listings, seller, moderator), 1)  # cart full
    api.fails("22023", "checkout", buyer.token, "")
    api.fails("22023", "checkout", buyer.token, "k" * 101)


def test_checkout_makes_one_order_per_seller_and_reserves_every_line(
    api: Api, db: Conn, listings: Listings, seller: User, other_seller: User, moderator: User, buyer: User
) -> None:
    a1, a2 = on_sale(listings, seller, moderator), on_sale(listings, seller, moderator, 2)
    b1 = on_sale(listings, other_seller, moderator)
    api.one("cart_add", buyer.token, a1, 1)
    api.one("cart_add", buyer.token, a2, 2)
    api.one("cart_add", buyer.token, b1, 3)
    orders = checkout(api, buyer)
    assert [(o["seller_id"], o["line_count"], o["total_amount"], o["created"]) for o in orders] == [
        (seller.id, 2, 30000, True), (other_seller.id, 1, 30000, True)]  # fmt: skip
    assert stock(db, a1) == (5, 1, "published")
    assert stock(db, a2) == (2, 2, "reserved")  # every unit held
    assert stock(db, b1) == (5, 3, "published")
    assert cart(api, buyer) == {}
    api.fails("55000", "checkout", buyer.token, None)  # the cart is empty now
    # a two-line order pays as one: both listings lose their units, one deal
    assert api.one("pay_order", seller.token, orders[0]["order_id"]) == "paid"
    assert stock(db, a1) == (4, 0, "published")
    assert stock(db, a2) == (0, 0, "sold")
    deals = db.execute(
        "select count(*) from core.deals where order_id = %s", [orders[0]["order_id"]]
    ).fetchone()
    assert deals == (1,)
    # and cancels as one
    assert api.one("cancel_order", buyer.token, orders[1]["order_id"], None) == "cancelled"
    assert stock(db, b1) == (5, 0, "published")
    details = api.rows("order_details", buyer.token, orders[0]["order_id"])[0]
    assert [line["listing_id"] for line in details[12]] == [a1, a2]
    mine = api.rows("my_orders", buyer.token, "buyer")
    assert {r[0]: r[3] for r in mine} == {orders[0]["order_id"]: 3, orders[1]["order_id"]: 3}


def test_partial_availability_reserves_nothing_and_names_each_failing_line(
    api: Api,
    db: Conn,
    listings: Listings,
    seller: User,
    other_seller: User,
    moderator: User,
    buyer: User,
    make_user: MakeUser,
) -> None:
    third = make_user("Third seller")
    fine = on_sale(listings, seller, moderator)
    short = on_sale(listings, seller, moderator, 2)
    gone = on_sale(listings, other_seller, moderator, 1)
    withdrawn = on_sale(listings, other_seller, moderator)
    blocked_seller = on_sale(listings, third, moderator)  # blocked below
    for listing, quantity in ((fine, 1), (short, 3), (gone, 1), (withdrawn, 1), (blocked_seller, 1)):
        api.one("cart_add", buyer.token, listing, quantity)
    api.one("create_order", seller.token, gone, 1, None)  # someone else took the last unit
    api.one("archive_listing", other_seller.token, withdrawn)
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'x' where id = %s", [third.id])
    error = api.fails("55000", "checkout", buyer.token, "key-1")
    lines = json.loads(error.diag.message_detail or "{}")["lines"]  # machine-readable, line by line
    assert [(f["listing_id"], f["reason"], f["available"]) for f in lines] == [
        (short, "not_enough_stock", 2),
        (gone, "sold_out", 0),
        (withdrawn, "not_on_sale", 5),
        (blocked_seller, "seller_blocked", 5),
    ]
    assert "not enough stock" in lines[0]["message"] and lines[0]["title"]
    assert f"listing {gone}: sold out" in (error.diag.message_primary or "")
    reasons = [line["problem_reason"] for _, line in sorted(cart(api, buyer).items())]
    assert reasons == [None, "not_enough_stock", "sold_out", "not_on_sale", "seller_blocked"]
    # nothing reserved, no order, the cart kept, the key not used up
    assert stock(db, fine) == (5, 0, "published") and stock(db, short) == (2, 0, "published")
    assert db.execute("select count(*) from core.orders where buyer_id = %s", [buyer.id]).fetchone() == (0,)
    assert len(cart(api, buyer)) == 5
    for listing in (short, gone, withdrawn, blocked_seller):
        api.one("cart_remove", buyer.token, listing)
    assert [o["created"] for o in checkout(api, buyer, "key-1")] == [True]


def test_a_repeated_checkout_with_the_same_key_returns_the_same_orders(
    api: Api, db: Conn, listings: Listings, seller: User, other_seller: User, moderator: User, buyer: User
) -> None:
    a, b = on_sale(listings, seller, moderator), on_sale(listings, other_seller, moderator)
    api.one("cart_add", buyer.token, a, 1)
    api.one("cart_add", buyer.token, b, 1)
    first = checkout(api, buyer, "cart-7")
    api.one("cart_add", buyer.token, a, 1)  # the cart changes; the key still means that checkout
    again = checkout(api, buyer, "cart-7")
    assert [o["order_id"] for o in again] == [o["order_id"] for o in first]
    assert [o["created"] for o in again] == [False, False]
    assert stock(db, a) == (5, 1, "published")
    assert len(cart(api, buyer)) == 1


def test_an_expired_checkout_order_releases_every_line(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, buyer: User
) -> None:
    a, b = on_sale(listings, seller, moderator), on_sale(listings, seller, moderator, 1)
    api.one("cart_add", buyer.token, a, 2)
    api.one("cart_add", buyer.token, b, 1)
    [placed] = checkout(api, buyer)
    assert stock(db, b) == (1, 1, "reserved")
    db.execute("update core.orders set reserved_until = now() - interval '1 second' where id = %s",
               [placed["order_id"]])  # fmt: skip
    assert db.execute("select ops.expire_reservations()").fetchone() == (1,)
    assert stock(db, a) == (5, 0, "published") and stock(db, b) == (1, 0, "published")


def test_existing_single_orders_became_one_line_orders(db: Conn) -> None:
    # the lines table carries the listing data; the header no longer has it
    columns = {r[0] for r in db.execute(
        "select column_name from information_schema.columns where table_schema = 'core' "
        "and table_name = 'orders'").fetchall()}  # fmt: skip
    assert not columns & {"listing_id", "quantity", "unit_price_amount", "wholesale"}
    assert "checkout_id" in columns
