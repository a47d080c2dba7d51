"""What application teams build on (issue 17): a shop's back office (every listing and order of the
shop for its staff, in keyset pages), inviting a member by e-mail or phone, and a person's deals on
both sides with what they can still do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.conftest import Api, Conn, Listings, MakeUser, User


def pages(api: Api, function: str, *args: Any, limit: int = 2) -> list[list[int]]:
    """Every page of a keyset list: the ids of each page, following next_cursor."""
    result, cursor = [], None
    while True:
        rows = api.rows(function, *args, cursor, limit)
        result.append([r[0] for r in rows])
        cursor = rows[-1][-1] if rows else None
        if cursor is None:
            return result


@pytest.fixture
def staff(api: Api, make_user: MakeUser) -> dict[str, Any]:
    owner, manager, seller, stranger = (make_user(n) for n in ("Owner", "Manager", "Seller", "Stranger"))
    shop = int(api.one("create_shop", owner.token, "Back Office Parts", ""))
    api.one("add_shop_member", owner.token, shop, manager.id, "manager")
    assert api.one("invite_shop_member", owner.token, shop, seller.email.upper(), "seller") == seller.id
    return {"shop": shop, "owner": owner, "manager": manager, "seller": seller, "stranger": stranger}


def test_the_shop_staff_see_every_listing_and_order_of_the_shop(
    api: Api, listings: Listings, moderator: User, make_user: MakeUser, staff: dict[str, Any]
) -> None:
    shop, owner, seller = staff["shop"], staff["owner"], staff["seller"]
    draft = listings.create(seller, "part", p_shop_id=shop)
    waiting = listings.create(owner, "part", p_shop_id=shop)
    api.one("submit_listing", owner.token, waiting)
    on_sale = listings.publish(
        seller, moderator, listings.create(seller, "part", p_shop_id=shop, p_quantity=5)
    )
    rejected = listings.create(seller, "part", p_shop_id=shop)
    api.one("submit_listing", seller.token, rejected)
    api.one("reject_listing", moderator.token, rejected, "blurry photos")
    newest_first = [rejected, on_sale, waiting, draft]
    for member in ("owner", "manager", "seller"):
        token = staff[member].token
        assert [r[0] for r in api.rows("shop_inventory", token, shop, None, None, 50)] == newest_first
    assert pages(api, "shop_inventory", owner.token, shop, None) == [newest_first[:2], newest_first[2:]]
    [row] = api.rows("shop_inventory", owner.token, shop, "rejected", None, 50)
    assert row[3] == "rejected" and row[10] == "blurry photos"

    buyer = make_user("Buyer")
    orders = [api.one("create_order", buyer.token, on_sale, 1, None)[0] for _ in range(2)]
    api.one("cancel_order", buyer.token, orders[0])
    assert [r[0] for r in api.rows("shop_orders", staff["manager"].token, shop, None, None, 50)] == orders[
        ::-1
    ]
    [paid_or_not] = api.rows("shop_orders", owner.token, shop, "cancelled", None, 50)
    assert paid_or_not[0] == orders[0] and paid_or_not[2] == "Buyer" and paid_or_not[8] == "cancelled"
    assert pages(api, "shop_orders", owner.token, shop, None, limit=1) == [[orders[1]], [orders[0]]]

    stranger = staff["stranger"].token
    api.fails("42501", "shop_inventory", stranger, shop, None, None, 50)
    api.fails("42501", "shop_orders", stranger, shop, None, None, 50)
    api.fails("P0002", "shop_orders", owner.token, 10**9, None, None, 50)
    for args in (("boat", None, 50), (None, "not-a-cursor", 50), (None, None, 0), (None, None, 501)):
        api.fails("22023", "shop_inventory", owner.token, shop, *args)
        api.fails("22023", "shop_orders", owner.token, shop, *args)


def test_a_member_is_invited_by_email_or_phone(
    api: Api, db: Conn, make_user: MakeUser, staff: dict[str, Any]
) -> None:
    shop, owner = staff["shop"], staff["owner"]
    newcomer = make_user("Newcomer")
    assert api.one("invite_shop_member", owner.token, shop, newcomer.phone, "manager") == newcomer.id
    members = api.rows("shop_members", owner.token, shop)
    assert [("manager" in r) for r in members if r[0] == newcomer.id] == [True]
    api.fails("23505", "invite_shop_member", owner.token, shop, newcomer.email, "seller")
    api.fails("P0002", "invite_shop_member", owner.token, shop, "nobody@example.com", "seller")
    api.fails("22023", "invite_shop_member", owner.token, shop, "not an identifier", "seller")
    api.fails("22023", "invite_shop_member", owner.token, shop, staff["stranger"].email, "boss")
    api.fails("42501", "invite_shop_member", staff["manager"].token, shop, staff["stranger"].email, "seller")
    blocked = make_user("Blocked")
    db.execute(
        "update core.users set blocked_at = now(), blocked_reason = 'spam' where id = %s", [blocked.id]
    )
    api.fails("55000", "invite_shop_member", owner.token, shop, blocked.email, "seller")


def test_a_person_lists_their_deals_on_both_sides_with_what_they_can_do(
    api: Api, listings: Listings, moderator: User, make_user: MakeUser
) -> None:
    alice, bob, carol = make_user("Alice"), make_user("Bob"), make_user("Carol")
    sold = listings.publish(alice, moderator, listings.create(alice, "part"))
    bought = api.one("record_deal", alice.token, bob.id, sold)  # Alice sold to Bob
    other = api.one("record_deal", carol.token, alice.id, None)  # Carol sold to Alice
    rows = api.rows("my_deals", alice.token, None, 50)
    assert [(r[0], r[1], r[2]) for r in rows] == [(other, "buyer", carol.id), (bought, "seller", bob.id)]
    assert [(r[9], r[10]) for r in rows] == [(True, False), (False, False)]  # Alice may confirm Carol's
    [bobs] = api.rows("my_deals", bob.token, None, 50)
    assert (bobs[0], bobs[1], bobs[4], bobs[9]) == (bought, "buyer", sold, True)
    api.one("confirm_deal", bob.token, bought)
    assert api.rows("my_deals", bob.token, None, 50)[0][9:11] == (False, True)  # now a review is due
    api.one("review_seller", bob.token, alice.id, 5, "Всё отлично", bought)
    [after] = api.rows("my_deals", bob.token, None, 50)
    assert after[10] is False and after[11] is not None
    assert pages(api, "my_deals", alice.token, limit=1) == [[other], [bought]]
    for args in (("not-a-cursor", 50), (None, 0), (None, 501)):
        api.fails("22023", "my_deals", alice.token, *args)
