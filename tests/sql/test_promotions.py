"""Promotion bought like goods (issue 17): the seller side orders days of the VIP mark, the
platform confirms the payment and the listing is promoted from then; unpaid, it expires; the same
idempotency key answers the same order."""

from __future__ import annotations

from typing import Any

from tests.sql.conftest import Api, Conn, Listings, MakeUser, User


def listing_promoted_until(db: Conn, listing_id: int) -> Any:
    row = db.execute("select promoted_until from core.listings where id = %s", [listing_id]).fetchone()
    assert row is not None
    return row[0]


def test_a_seller_buys_promotion_and_it_starts_when_paid(
    api: Api, db: Conn, listings: Listings, make_user: MakeUser, moderator: User, admin: User
) -> None:
    seller = make_user("Promoting Seller")
    listing = listings.publish(seller, moderator, listings.create(seller, "part"))
    order = api.one("buy_promotion", seller.token, listing, 7, "promo-1")
    assert order[1:4] == (7, 70000, "RUB") and order[5] is True
    assert (
        api.one("buy_promotion", seller.token, listing, 7, "promo-1")[0] == order[0]
    )  # same key, same order
    api.fails("23505", "buy_promotion", seller.token, listing, 3, "promo-1")
    assert listing_promoted_until(db, listing) is None  # nothing before the payment
    api.fails("42501", "pay_promotion", seller.token, order[0])  # the platform confirms, not the seller
    until = api.one("pay_promotion", admin.token, order[0])
    assert listing_promoted_until(db, listing) == until
    assert api.card(listing)["promoted"] is True
    second = api.one("buy_promotion", seller.token, listing, 3, None)
    later = api.one("pay_promotion", admin.token, second[0])
    assert (later - until).days == 3  # a second purchase extends the running one
    api.fails("55000", "pay_promotion", admin.token, second[0])  # paid already
    statuses = [(r[0], r[6]) for r in api.rows("my_promotions", seller.token)]
    assert statuses == [(second[0], "paid"), (order[0], "paid")]


def test_unpaid_promotion_expires_and_a_buyer_may_cancel(
    api: Api, db: Conn, listings: Listings, make_user: MakeUser, moderator: User, admin: User
) -> None:
    seller = make_user("Unpaid Seller")
    listing = listings.publish(seller, moderator, listings.create(seller, "part"))
    cancelled = api.one("buy_promotion", seller.token, listing, 1, None)[0]
    api.one("cancel_promotion", seller.token, cancelled)
    api.fails("55000", "cancel_promotion", seller.token, cancelled)
    api.fails("55000", "pay_promotion", admin.token, cancelled)
    late = api.one("buy_promotion", seller.token, listing, 1, None)[0]
    db.execute(
        "update core.promotion_orders set reserved_until = now() - interval '1 second' where id = %s", [late]
    )
    api.fails("55000", "pay_promotion", admin.token, late)
    assert db.execute("select ops.expire_reservations()").fetchone()[0] >= 1  # type: ignore[index]
    assert db.execute("select status from core.promotion_orders where id = %s", [late]).fetchone() == (
        "expired",
    )


def test_promotion_refusals(
    api: Api, listings: Listings, make_user: MakeUser, moderator: User, admin: User
) -> None:
    seller, stranger = make_user("Seller"), make_user("Stranger")
    draft = listings.create(seller, "part")
    api.fails("55000", "buy_promotion", seller.token, draft, 3, None)  # not on sale
    listing = listings.publish(seller, moderator, listings.create(seller, "part"))
    api.fails("42501", "buy_promotion", stranger.token, listing, 3, None)
    api.fails("P0002", "buy_promotion", seller.token, 10**9, 3, None)
    for days in (None, 0, 31, -1):
        api.fails("22023", "buy_promotion", seller.token, listing, days, None)
    for key in ("", "k" * 101):
        api.fails("22023", "buy_promotion", seller.token, listing, 3, key)
    api.fails("P0002", "pay_promotion", admin.token, 10**9)
    api.fails("P0002", "cancel_promotion", stranger.token, 10**9)
