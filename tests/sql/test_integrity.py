"""ops.integrity_report / integrity_violations: the marketplace's invariants in SQL. A small
marketplace made through the api is clean; each rule, broken on purpose by a direct write (as a
bug or a hand-made fix would), is reported with the id of what breaks it, and no other rule is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.sql.conftest import Api, Listings, MakeUser, User

Conn = psycopg.Connection[Any]


@dataclass
class Market:
    seller: User
    buyer: User
    shop: int
    car: int  # published, liked, clicked, tagged, sold once (a paid order with a deal and a review)
    part: int  # a shop listing with a reserved order
    reserved_order: int
    paid_order: int
    review: int


@pytest.fixture
def market(api: Api, db: Conn, listings: Listings, make_user: MakeUser, moderator: User) -> Market:
    seller, buyer = make_user("Seller"), make_user("Buyer")
    shop = int(api.one("create_shop", seller.token, "Integrity Parts", ""))
    car = listings.publish(
        seller, moderator, listings.create(seller, "car", p_quantity=3, p_tags=["седан", "toyota"])
    )
    part = listings.publish(seller, moderator, listings.create(seller, p_shop_id=shop, p_quantity=4))
    api.rows("react", buyer.token, car, "like")
    api.rows("add_favorite", buyer.token, car)
    api.rows("open_contacts", car, buyer.token, None, "card")
    reserved = int(api.one("create_order", buyer.token, part, 2)[0])
    paid = int(api.one("create_order", buyer.token, car, 1)[0])
    api.rows("pay_order", seller.token, paid)
    deal = db.execute("select id from core.deals where order_id = %s", [paid]).fetchone()
    assert deal is not None
    review = int(api.one("review_seller", buyer.token, seller.id, 5, "Отлично", deal[0]))
    return Market(seller, buyer, shop, car, part, reserved, paid, review)


def violations(db: Conn) -> dict[str, list[int]]:
    return {r[0]: list(r[1]) for r in db.execute("select rule, sample_ids from ops.integrity_violations()")}


def test_the_report_lists_every_rule_and_a_sound_marketplace_breaks_none(db: Conn, market: Market) -> None:
    rules = [r[0] for r in db.execute("select rule from ops.integrity_report()")]
    assert len(rules) == len(BREAKS) == 19
    assert sorted(rules) == sorted(BREAKS)
    assert violations(db) == {}


# rule -> (a statement that breaks it, what it names): run as the admin, triggers and all
BREAKS: dict[str, tuple[str, str]] = {
    "attributes": (
        "update core.listings set attributes = attributes || '{\"year\": 1800}' where id = {car}",
        "car",
    ),
    "search_vector": ("update core.listings set search_vector = ''::tsvector where id = {car}", "car"),
    "listing_cards": (
        "update core.listing_cards set photos = '{forged.jpg}' where listing_id = {car}",
        "car",
    ),
    "reserved_stock": ("update core.listings set reserved_quantity = 1 where id = {car}", "car"),
    "stock_status": ("update core.listings set quantity = 0 where id = {car}", "car"),
    "seller_blocked": ("update core.listings set seller_blocked = true where id = {car}", "car"),
    "order_totals": (
        "update core.orders set total_amount = total_amount + 1 where id = {paid_order}",
        "paid_order",
    ),
    "order_history": ("delete from core.order_status_history where order_id = {paid_order}", "paid_order"),
    "deals_from_orders": (
        "update core.deals set confirmed_at = null where order_id = {paid_order}",
        "paid_order",
    ),
    "reviews_need_deals": (
        "update core.reviews set created_at = created_at - interval '1 day' where id = {review}",
        "review",
    ),
    "listing_counters": ("update core.listings set like_count = like_count + 1 where id = {car}", "car"),
    "click_counters": (
        "update core.listings set contact_click_count = contact_click_count + 1 where id = {car}",
        "car",
    ),
    "price_history": ("update core.listings set price_amount = price_amount + 1 where id = {car}", "car"),
    "shop_listings": (
        "update core.shop_members set added_at = now() + interval '1 day' where shop_id = {shop}",
        "part",
    ),
    "status_history": ("update core.listings set status = 'archived' where id = {part}", "part"),
    "partitions": (
        "insert into core.audit_log (created_at, action) values ('2199-01-01', 'probe') returning id",
        "returned",
    ),
    "shop_owners": ("delete from core.shop_members where shop_id = {shop}", "shop"),
    "tag_limit": ("update core.settings set value = '1' where key = 'max_tags_per_listing'", "car"),
    "saved_search_matching": (
        "update core.saved_search_queue set attempts = 3, last_error = 'XX000: broken' "
        "where listing_id = {car}",
        "car",
    ),
}


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_each_rule_reports_what_breaks_it(db: Conn, market: Market, rule: str) -> None:
    statement, names = BREAKS[rule]
    ids = {k: v for k, v in vars(market).items() if isinstance(v, int)}
    for name, value in ids.items():
        statement = statement.replace("{" + name + "}", str(value))
    cur = db.execute(statement.encode())
    returned = cur.fetchone() if names == "returned" else None
    expected = returned[0] if returned else ids[names]
    if rule == "reviews_need_deals":
        expected = market.review
    found = violations(db)
    assert expected in found.get(rule, []), found
    # the deal rule is about the order; breaking it also breaks the review that rests on that deal
    assert set(found) - {rule} <= ({"reviews_need_deals"} if rule == "deals_from_orders" else set())
