"""Shops and members: api.create_shop, update_shop_description, shop_profile, my_shops,
shop_members, add_shop_member, set_shop_member_role, remove_shop_member."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.harness import as_role
from tests.sql.conftest import Api, MakeUser, User

Conn = psycopg.Connection[Any]


@pytest.fixture
def shop(api: Api, user: User) -> int:
    return int(api.one("create_shop", user.token, "Detali Moskva", "Used parts for German cars"))


def members(api: Api, token: str, shop: int) -> dict[int, str]:
    return {row[0]: row[2] for row in api.rows("shop_members", token, shop)}


def test_creator_owns_the_new_shop(api: Api, user: User, shop: int) -> None:
    assert members(api, user.token, shop) == {user.id: "owner"}
    assert api.one("shop_profile", shop)[1:][:2] == ("Detali Moskva", "Used parts for German cars")
    assert [r[0] for r in api.rows("my_shops", user.token)] == [shop]


@pytest.mark.parametrize(
    ("name", "description"),
    [("", ""), (" ", ""), ("x", ""), ("y" * 101, ""), ("Tab\tShop", ""), ("Fine Name", "z" * 4001)],
)
def test_create_shop_refuses_bad_arguments(api: Api, user: User, name: str, description: str) -> None:
    api.fails("22023", "create_shop", user.token, name, description)


def test_shop_names_are_unique_ignoring_case(api: Api, user: User, shop: int) -> None:
    api.fails("23505", "create_shop", user.token, "DETALI MOSKVA", "")


def test_create_shop_needs_a_valid_unblocked_session(api: Api, db: Conn, user: User) -> None:
    api.fails("28000", "create_shop", "f" * 64, "Shop", "")
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'test' where id = %s", [user.id])
    api.fails("42501", "create_shop", user.token, "Shop", "")


def test_owner_adds_members_and_one_user_can_belong_to_several_shops(
    api: Api, make_user: MakeUser, user: User, shop: int
) -> None:
    seller = make_user("Seller")
    other_shop = api.one("create_shop", seller.token, "Seller's Own Shop", "")
    api.one("add_shop_member", user.token, shop, seller.id, "seller")
    assert members(api, user.token, shop) == {user.id: "owner", seller.id: "seller"}
    assert sorted(r[0] for r in api.rows("my_shops", seller.token)) == sorted([shop, other_shop])


def test_add_member_refusals(api: Api, db: Conn, make_user: MakeUser, user: User, shop: int) -> None:
    seller, outsider, newcomer = make_user("Seller"), make_user("Outsider"), make_user("Newcomer")
    api.one("add_shop_member", user.token, shop, seller.id, "seller")
    api.fails("42501", "add_shop_member", outsider.token, shop, newcomer.id, "seller")  # not a member
    api.fails("42501", "add_shop_member", seller.token, shop, newcomer.id, "seller")  # not an owner
    api.fails("23505", "add_shop_member", user.token, shop, seller.id, "manager")  # already in
    api.fails("P0002", "add_shop_member", user.token, shop, 10**12, "seller")  # no such user
    api.fails("P0002", "add_shop_member", user.token, 10**12, newcomer.id, "seller")  # no such shop
    api.fails("22023", "add_shop_member", user.token, shop, newcomer.id, "boss")  # no such role
    api.fails("28000", "add_shop_member", None, shop, newcomer.id, "seller")
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'x' where id = %s", [newcomer.id])
    api.fails("55000", "add_shop_member", user.token, shop, newcomer.id, "seller")


def test_members_cannot_remove_the_owner_and_the_last_owner_cannot_leave(
    api: Api, make_user: MakeUser, user: User, shop: int
) -> None:
    manager = make_user("Manager")
    api.one("add_shop_member", user.token, shop, manager.id, "manager")
    api.fails("42501", "remove_shop_member", manager.token, shop, user.id)
    api.fails("55000", "remove_shop_member", user.token, shop, user.id)
    api.fails("55000", "set_shop_member_role", user.token, shop, user.id, "seller")
    api.fails("P0002", "remove_shop_member", user.token, shop, 10**12)
    # with a second owner, the first may go
    api.one("set_shop_member_role", user.token, shop, manager.id, "owner")
    api.one("remove_shop_member", user.token, shop, user.id)
    assert members(api, manager.token, shop) == {manager.id: "owner"}


def test_a_member_may_leave_and_an_owner_may_remove_anyone(
    api: Api, db: Conn, make_user: MakeUser, user: User, shop: int
) -> None:
    a, b = make_user("A"), make_user("B")
    api.one("add_shop_member", user.token, shop, a.id, "seller")
    api.one("add_shop_member", user.token, shop, b.id, "seller")
    api.fails("42501", "remove_shop_member", a.token, shop, b.id)
    api.one("remove_shop_member", a.token, shop, a.id)
    api.one("remove_shop_member", user.token, shop, b.id)
    assert members(api, user.token, shop) == {user.id: "owner"}
    # The owner check is a deferred trigger: it fires at COMMIT as the application's role.
    with as_role(db, "bazaar_app"):
        db.execute("set constraints all immediate")


def test_set_role_refusals(api: Api, make_user: MakeUser, user: User, shop: int) -> None:
    seller = make_user("Seller")
    api.one("add_shop_member", user.token, shop, seller.id, "seller")
    api.fails("42501", "set_shop_member_role", seller.token, shop, seller.id, "owner")
    api.fails("22023", "set_shop_member_role", user.token, shop, seller.id, "king")
    api.fails("P0002", "set_shop_member_role", user.token, shop, 10**12, "manager")
    api.one("set_shop_member_role", user.token, shop, seller.id, "manager")
    assert members(api, user.token, shop)[seller.id] == "manager"


def test_member_list_is_for_members_and_staff(
    api: Api, make_user: MakeUser, moderator: User, user: User, shop: int
) -> None:
    outsider = make_user("Outsider")
    api.fails("42501", "shop_members", outsider.token, shop)
    assert members(api, moderator.token, shop) == {user.id: "owner"}
    api.fails("P0002", "shop_members", moderator.token, 10**12)


def test_owners_and_managers_edit_the_description(
    api: Api, make_user: MakeUser, user: User, shop: int
) -> None:
    manager, seller = make_user("Manager"), make_user("Seller")
    api.one("add_shop_member", user.token, shop, manager.id, "manager")
    api.one("add_shop_member", user.token, shop, seller.id, "seller")
    api.one("update_shop_description", manager.token, shop, "  Now with Japanese parts  ")
    assert api.one("shop_profile", shop)[2] == "Now with Japanese parts"
    api.fails("42501", "update_shop_description", seller.token, shop, "hijacked")
    api.fails("22023", "update_shop_description", user.token, shop, "z" * 4001)
    api.fails("P0002", "update_shop_description", user.token, 10**12, "x")
    api.fails("P0002", "shop_profile", 10**12)


def test_the_database_itself_keeps_an_owner(db: Conn, user: User, shop: int) -> None:
    # Even the table owner, bypassing the api, cannot leave a shop without an owner.
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState), as_role(db, "bazaar_owner"):
        db.execute("delete from core.shop_members where shop_id = %s", [shop])
        db.execute("set constraints all immediate")
