"""Orders and stock: reservation, payment, cancellation, expiry, idempotency, wholesale price,
never overselling, and the deals that paid orders make."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.sql.conftest import Api, Listings, MakeUser, User

Conn = psycopg.Connection[Any]


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


@pytest.fixture
def buyer(make_user: MakeUser) -> User:
    return make_user("Buyer")


def stock(db: Conn, listing_id: int) -> tuple[int, int, str]:
    row = db.execute(
        "select quantity, reserved_quantity, status::text from core.listings where id = %s", [listing_id]
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


@pytest.fixture
def on_sale(listings: Listings, seller: User, moderator: User) -> int:
    return listings.publish(
        seller, moderator,
        listings.create(seller, "part", p_quantity=5, p_price_amount=10000,
                        p_wholesale_price_amount=8000, p_wholesale_min_quantity=3),
    )  # fmt: skip


def order(
    api: Api, buyer: User, listing_id: int, quantity: int = 1, key: str | None = None
) -> dict[str, Any]:
    row = api.one("create_order", buyer.token, listing_id, quantity, key)
    keys = ["order_id", "status", "quantity", "unit_price_amount", "total_amount", "currency", "wholesale",
            "reserved_until", "created"]  # fmt: skip
    return dict(zip(keys, row, strict=True))


def test_order_reserves_then_payment_sells(
    api: Api, db: Conn, on_sale: int, buyer: User, seller: User
) -> None:
    placed = order(api, buyer, on_sale, 2)
    assert (placed["status"], placed["total_amount"], placed["wholesale"], placed["created"]) == (
        "reserved", 20000, False, True)  # fmt: skip
    assert stock(db, on_sale) == (5, 2, "published")
    assert api.one("pay_order", seller.token, placed["order_id"]) == "paid"
    assert stock(db, on_sale) == (3, 0, "published")
    details = api.rows("order_details", buyer.token, placed["order_id"])[0]
    assert (details[7], details[8]) == ("paid", "paid")
    assert [(line["listing_id"], line["quantity"], line["line_amount"]) for line in details[12]] == [
        (on_sale, 2, 20000)]  # fmt: skip
    assert [h["to"] for h in details[13]] == ["reserved", "paid"]
    deal = db.execute("select seller_id, buyer_id, order_id from core.deals where order_id = %s",
                      [placed["order_id"]]).fetchone()  # fmt: skip
    assert deal == (seller.id, buyer.id, placed["order_id"])
    kinds = db.execute(
        "select kind from core.notifications where user_id = %s order by id", [buyer.id]
    ).fetchall()
    assert ("review_request",) in kinds and ("order_paid",) in kinds


def test_wholesale_price_applies_from_its_minimum(api: Api, on_sale: int, buyer: User) -> None:
    placed = order(api, buyer, on_sale, 3)
    assert (placed["unit_price_amount"], placed["total_amount"], placed["wholesale"]) == (8000, 24000, True)


def test_all_units_reserved_makes_the_listing_reserved_and_release_restores_it(
    api: Api, db: Conn, on_sale: int, buyer: User, seller: User
) -> None:
    placed = order(api, buyer, on_sale, 5)
    assert stock(db, on_sale) == (5, 5, "reserved")
    assert api.card(on_sale)["sold_out"] is True
    api.fails("55000", "create_order", buyer.token, on_sale, 1, None)  # sold out
    assert api.one("cancel_order", seller.token, placed["order_id"], "changed my mind") == "cancelled"
    assert stock(db, on_sale) == (5, 0, "published")


def test_selling_the_last_unit_marks_the_listing_sold(
    api: Api, db: Conn, on_sale: int, buyer: User, seller: User
) -> None:
    placed = order(api, buyer, on_sale, 5)
    api.one("pay_order", seller.token, placed["order_id"])
    assert stock(db, on_sale) == (0, 0, "sold")


def test_idempotency_key_returns_the_same_order(api: Api, db: Conn, on_sale: int, buyer: User) -> None:
    first = order(api, buyer, on_sale, 2, "checkout-42")
    again = order(api, buyer, on_sale, 2, "checkout-42")
    assert again["order_id"] == first["order_id"] and again["created"] is False
    assert stock(db, on_sale) == (5, 2, "published")
    api.fails("23505", "create_order", buyer.token, on_sale, 3, "checkout-42")  # the same key, other order


def test_expired_reservations_return_their_units(
    api: Api, db: Conn, on_sale: int, buyer: User, seller: User
) -> None:
    placed = order(api, buyer, on_sale, 4)
    db.execute("update core.orders set reserved_until = now() - interval '1 second' where id = %s",
               [placed["order_id"]])  # fmt: skip
    api.fails("55000", "pay_order", seller.token, placed["order_id"])  # too late to pay
    assert db.execute("select ops.expire_reservations()").fetchone() == (1,)
    assert stock(db, on_sale) == (5, 0, "published")
    row = db.execute("select status::text from core.orders where id = %s", [placed["order_id"]]).fetchone()
    assert row == ("expired",)
    assert db.execute("select ops.expire_reservations()").fetchone() == (0,)


def test_order_refusals(
    api: Api, db: Conn, listings: Listings, on_sale: int, buyer: User, seller: User, make_user: MakeUser
) -> None:
    api.fails("55000", "create_order", seller.token, on_sale, 1, None)  # own listing
    api.fails("55000", "create_order", buyer.token, on_sale, 6, None)  # more than the stock
    api.fails("22023", "create_order", buyer.token, on_sale, 0, None)
    api.fails("22023", "create_order", buyer.token, on_sale, 1, "")
    api.fails("P0002", "create_order", buyer.token, 10**9, 1, None)
    api.fails("55000", "create_order", buyer.token, listings.create(seller, "part"), 1, None)  # a draft
    placed = order(api, buyer, on_sale, 1)
    stranger = make_user("Stranger")
    api.fails("42501", "pay_order", buyer.token, placed["order_id"])  # buyers do not confirm payment
    api.fails("42501", "cancel_order", stranger.token, placed["order_id"], None)
    api.fails("P0002", "order_details", stranger.token, placed["order_id"])
    api.fails("P0002", "pay_order", seller.token, 10**9)
    api.one("cancel_order", buyer.token, placed["order_id"], None)
    api.fails("55000", "cancel_order", buyer.token, placed["order_id"], None)  # already cancelled
    api.fails("55000", "pay_order", seller.token, placed["order_id"])
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'x' where id = %s", [seller.id])
    api.fails("55000", "create_order", buyer.token, on_sale, 1, None)  # the seller is blocked
    api.fails("22023", "my_orders", buyer.token, "thief")


def test_a_removed_shop_member_cannot_confirm_the_shops_orders(
    api: Api, listings: Listings, make_user: MakeUser, moderator: User, buyer: User
) -> None:
    owner, employee = make_user("Owner"), make_user("Employee")
    shop = api.one("create_shop", owner.token, "Order Shop", "")
    api.one("add_shop_member", owner.token, shop, employee.id, "seller")
    listing_id = listings.publish(employee, moderator, listings.create(employee, "part", p_shop_id=shop))
    placed = order(api, buyer, listing_id, 1)
    api.one("remove_shop_member", owner.token, shop, employee.id)
    api.fails("42501", "pay_order", employee.token, placed["order_id"])
    assert api.one("pay_order", owner.token, placed["order_id"]) == "paid"


def test_my_orders_as_buyer_and_seller(api: Api, on_sale: int, buyer: User, seller: User) -> None:
    placed = order(api, buyer, on_sale, 1)
    assert [r[0] for r in api.rows("my_orders", buyer.token, "buyer")] == [placed["order_id"]]
    assert [r[0] for r in api.rows("my_orders", seller.token, "seller")] == [placed["order_id"]]
    assert api.rows("my_orders", seller.token, "buyer") == []


def test_the_stock_check_holds_even_against_the_owner(db: Conn, on_sale: int) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction():
        db.execute("update core.listings set reserved_quantity = quantity + 1 where id = %s", [on_sale])


def test_expiry_is_scheduled_with_pg_cron(db: Conn) -> None:
    jobs = dict(db.execute("select jobname, command from cron.job").fetchall())
    assert jobs["bazaar-expire-reservations"] == "select ops.expire_reservations()"
    assert {"bazaar-expire-listings", "bazaar-maintain-partitions"} <= set(jobs)


def test_pg_cron_runs_the_expiry_job(_session_conn: Conn) -> None:
    # pg_cron 1.4 schedules by the minute: wait for the first run (the session started < 1 min ago).
    conn = _session_conn
    conn.rollback()
    deadline = time.monotonic() + 75
    runs: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline and not runs:
        runs = conn.execute(
            "select d.status, d.return_message from cron.job_run_details as d "
            "join cron.job as j using (jobid) where j.jobname = 'bazaar-expire-reservations' "
            "and d.status not in ('starting', 'running')"  # a run still under way has no outcome yet
        ).fetchall()
        conn.rollback()
        if not runs:
            time.sleep(0.5)  # polling interval while waiting for the scheduler, not synchronisation
    assert runs, "pg_cron did not run the expiry job within 75 s"
    assert runs[0] == ("succeeded", "SELECT 1")


def test_quantity_edits_respect_open_orders(
    api: Api, db: Conn, on_sale: int, buyer: User, seller: User
) -> None:
    order(api, buyer, on_sale, 2)
    api.fails("55000", "edit_listing", seller.token, on_sale, Jsonb({"quantity": 1}))  # 2 are reserved
    api.fails("22023", "edit_listing", seller.token, on_sale, Jsonb({"quantity": 0}))
    api.one("edit_listing", seller.token, on_sale, Jsonb({"quantity": 2}))  # every unit now held
    assert stock(db, on_sale) == (2, 2, "reserved")
    api.one("edit_listing", seller.token, on_sale, Jsonb({"quantity": 4}))
    assert stock(db, on_sale) == (4, 2, "published")
    api.fails("55000", "mark_listing_sold", seller.token, on_sale)  # open orders first
    api.fails("55000", "archive_listing", seller.token, on_sale)
