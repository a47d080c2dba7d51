"""Listings: create, edit, status machine, moderation, price and bump, photos, fitment, favorites,
likes, ads and promotion, the listing card."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.sql.conftest import CAR_ATTRIBUTES, Api, Listings, MakeUser, User

Conn = psycopg.Connection[Any]


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


def status(db: Conn, listing_id: int) -> str:
    row = db.execute("select status::text from core.listings where id = %s", [listing_id]).fetchone()
    assert row is not None
    return str(row[0])


# -- create -----------------------------------------------------------------------------------


def test_create_part_listing_normalises_and_records_history(
    db: Conn, listings: Listings, seller: User
) -> None:
    listing_id = listings.create(seller, "part", p_brand=" Bosch ", p_photos=["photos/a.jpg", "photos/b.jpg"])
    row = db.execute(
        "select status::text, brand, part_number, attributes, photo_count from core.listings where id = %s",
        [listing_id],
    ).fetchone()
    assert row == ("draft", "Bosch", "0986494294", {"part_number": "0 986 494 294", "condition": "new"}, 2)
    history = db.execute(
        "select from_status, to_status::text from core.listing_status_history where listing_id = %s",
        [listing_id],
    ).fetchall()
    assert history == [(None, "draft")]
    prices = db.execute(
        "select price_amount from core.listing_price_history where listing_id = %s", [listing_id]
    )
    assert prices.fetchall() == [(150000,)]


def test_create_car_and_service_listings(listings: Listings, seller: User, api: Api) -> None:
    car = listings.create(seller, "car", p_attributes={**CAR_ATTRIBUTES, "year": "2018"})
    service = listings.create(seller, "service")
    card = api.card(car, seller.token)
    assert (card["kind"], card["status"], card["make"], card["model"]) == ("car", "draft", "Toyota", "Camry")
    assert card["attributes"]["year"] == 2018  # normalised to a number
    assert api.card(service, seller.token)["kind"] == "service"


@pytest.mark.parametrize(
    ("kind", "fields", "named"),
    [
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "year": None}}, "year"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "year": 1900}}, "year"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "mileage_km": "far"}}, "mileage_km"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "year": 2018.5}}, "year"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "body": "spaceship"}}, "body"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "vin": "WVWZZZ1JZXW00000I"}}, "vin"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "colour": "red"}}, "colour"),
        ("car", {"p_attributes": {**CAR_ATTRIBUTES, "engine": "x" * 61}}, "engine"),
        ("part", {"p_attributes": {"part_number": "123"}}, "condition"),
        ("service", {"p_attributes": {"materials": "steel", "capabilities": "gears"}}, "lead_time_days"),
    ],
)
def test_wrong_or_missing_attributes_are_refused_naming_them(
    api: Api, listings: Listings, seller: User, kind: str, fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(psycopg.Error) as info:
        listings.create(seller, kind, **fields)
    assert info.value.sqlstate == "22023"
    assert f'"{named}"' in (info.value.diag.message_primary or "")


def test_category_attributes_apply_to_their_subtree(
    listings: Listings, seller: User, category: dict[str, int]
) -> None:
    battery = {"part_number": "5604080543", "condition": "new"}
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="capacity_ah"):
        listings.create(seller, "part", p_category_id=category["batteries"], p_attributes=battery)
    listings.create(
        seller,
        "part",
        p_category_id=category["batteries"],
        p_attributes={**battery, "capacity_ah": 60, "polarity": "reverse"},
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"p_kind": "boat"},
        {"p_category_id": 10**9},
        {"p_title": "ab"},
        {"p_title": "   "},
        {"p_price_amount": 0},
        {"p_price_amount": -100},
        {"p_price_amount": None},
        {"p_wholesale_price_amount": 200000, "p_wholesale_min_quantity": 5},
        {"p_wholesale_price_amount": 100000},
        {"p_wholesale_price_amount": 100000, "p_wholesale_min_quantity": 1},
        {"p_quantity": 0},
        {"p_currency": "rub"},
        {"p_region": ""},
        {"p_city": "x"},
        {"p_description": "d" * 5001},
        {"p_brand": "b" * 61},
        {"p_model_id": 10**9},
        {"p_photos": [f"p/{i}.jpg" for i in range(21)]},
        {"p_photos": ["ok.jpg", "ok.jpg"]},
        {"p_photos": ["../etc/passwd"]},
        {"p_contact_phone": "call me"},
    ],
)
def test_create_refuses_bad_arguments(listings: Listings, seller: User, fields: dict[str, Any]) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        listings.create(seller, "part", **fields)


def test_kind_must_match_the_category_and_cars_need_a_model(
    listings: Listings, seller: User, category: dict[str, int]
) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        listings.create(seller, "part", p_category_id=category["passenger-cars"])
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        listings.create(seller, "car", p_model_id=None)


def test_posting_for_a_shop_needs_membership(
    api: Api, db: Conn, listings: Listings, make_user: MakeUser
) -> None:
    owner, seller, outsider = make_user("Owner"), make_user("Shop seller"), make_user("Outsider")
    shop = api.one("create_shop", owner.token, "Parts Shop", "")
    api.one("add_shop_member", owner.token, shop, seller.id, "seller")
    listing_id = listings.create(seller, "part", p_shop_id=shop)
    assert api.card(listing_id, owner.token)["shop_name"] == "Parts Shop"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        listings.create(outsider, "part", p_shop_id=shop)
    with pytest.raises(psycopg.errors.NoDataFound):
        listings.create(outsider, "part", p_shop_id=10**9)


def test_a_removed_shop_member_loses_the_shops_listings(
    api: Api, listings: Listings, make_user: MakeUser, moderator: User
) -> None:
    owner, employee = make_user("Owner"), make_user("Employee")
    shop = api.one("create_shop", owner.token, "Employer Shop", "")
    api.one("add_shop_member", owner.token, shop, employee.id, "seller")
    listing_id = listings.publish(employee, moderator, listings.create(employee, "part", p_shop_id=shop))
    api.one("change_price", employee.token, listing_id, 140000, None, None)  # a member may
    api.one("remove_shop_member", owner.token, shop, employee.id)
    api.fails("42501", "change_price", employee.token, listing_id, 1000, None, None)
    api.fails("42501", "edit_listing", employee.token, listing_id, Jsonb({"contact_phone": "+79990000000"}))
    api.fails("42501", "archive_listing", employee.token, listing_id)
    api.one("change_price", owner.token, listing_id, 130000, None, None)  # the shop keeps control


def test_blocked_user_cannot_post(db: Conn, listings: Listings, seller: User) -> None:
    db.execute("update core.users set blocked_at = now(), blocked_reason = 'x' where id = %s", [seller.id])
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        listings.create(seller, "part")


# -- status machine and moderation ------------------------------------------------------------

ALL = ["draft", "pending", "published", "reserved", "sold", "rejected", "archived", "expired"]
LEGAL = {
    ("draft", "pending"), ("draft", "archived"),
    ("pending", "published"), ("pending", "rejected"), ("pending", "archived"),
    ("rejected", "pending"), ("rejected", "archived"),
    ("published", "reserved"), ("published", "sold"), ("published", "archived"), ("published", "expired"),
    ("reserved", "published"), ("reserved", "sold"),
    ("expired", "pending"), ("expired", "archived"),
    ("archived", "pending"),
}  # fmt: skip


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in ALL for b in ALL])
def test_status_machine_allows_exactly_the_legal_moves(
    db: Conn, listings: Listings, seller: User, source: str, target: str
) -> None:
    listing_id = listings.create(seller, "part")
    db.execute(
        "update core.listings set status = %s, rejection_reason = case when %s = 'rejected' then 'r' end "
        "where id = %s",
        [source, source, listing_id],
    )
    move = (
        "select (core.transition_listing(l, %s, null, 'why')).status::text "
        "from core.listings as l where l.id = %s"
    )
    if (source, target) in LEGAL:
        assert db.execute(move, [target, listing_id]).fetchone() == (target,)
        last = db.execute(
            "select from_status::text, to_status::text from core.listing_status_history "
            "where listing_id = %s order by id desc limit 1",
            [listing_id],
        ).fetchone()
        assert last == (source, target)
    else:
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState), db.transaction():
            db.execute(move, [target, listing_id])


def test_moderation_flow_is_audited_and_oldest_first(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User
) -> None:
    first, second = listings.create(seller, "part"), listings.create(seller, "service")
    api.one("submit_listing", seller.token, first)
    api.one("submit_listing", seller.token, second)
    db.execute(
        "update core.listings set status_changed_at = status_changed_at - interval '1 hour' where id = %s",
        [first],
    )
    queue = [r[0] for r in api.rows("moderation_queue", moderator.token, 100)]
    assert queue.index(first) < queue.index(second)
    assert api.one("approve_listing", moderator.token, first) == "published"
    assert api.one("reject_listing", moderator.token, second, "blurry photos") == "rejected"
    actions = db.execute(
        "select action, details ->> 'listing_id' from core.audit_log where actor_id = %s order by id",
        [moderator.id],
    ).fetchall()
    assert actions == [("approve_listing", str(first)), ("reject_listing", str(second))]
    assert api.card(second, seller.token)["rejection_reason"] == "blurry photos"
    assert api.one("submit_listing", seller.token, second) == "pending"
    expires = db.execute(
        "select expires_at - published_at from core.listings where id = %s", [first]
    ).fetchone()
    assert expires is not None and expires[0].days == 90  # the parts category lifetime


def test_moderation_refusals(api: Api, listings: Listings, seller: User, moderator: User) -> None:
    listing_id = listings.create(seller, "part")
    api.fails("42501", "approve_listing", seller.token, listing_id)
    api.fails("42501", "moderation_queue", seller.token, 10)
    api.fails("55000", "approve_listing", moderator.token, listing_id)  # still a draft
    api.fails("P0002", "approve_listing", moderator.token, 10**9)
    api.one("submit_listing", seller.token, listing_id)
    api.fails("22023", "reject_listing", moderator.token, listing_id, "")
    api.fails("55000", "submit_listing", seller.token, listing_id)  # already pending
    api.fails("22023", "moderation_queue", moderator.token, 0)


def test_seller_actions_follow_the_machine(
    api: Api, listings: Listings, seller: User, moderator: User, make_user: MakeUser
) -> None:
    listing_id = listings.create(seller, "part")
    api.fails("55000", "mark_listing_sold", seller.token, listing_id)  # draft -> sold
    listings.publish(seller, moderator, listing_id)
    api.fails("42501", "mark_listing_sold", make_user("Stranger").token, listing_id)
    assert api.one("mark_listing_sold", seller.token, listing_id) == "sold"
    api.fails("55000", "archive_listing", seller.token, listing_id)  # sold stays sold
    api.fails("55000", "edit_listing", seller.token, listing_id, Jsonb({"title": "New title"}))


def test_expiry_after_the_category_lifetime(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User
) -> None:
    listing_id = listings.publish(seller, moderator, listings.create(seller, "part"))
    db.execute(
        "update core.listings set expires_at = now() - interval '1 second' where id = %s", [listing_id]
    )
    assert db.execute("select ops.expire_listings()").fetchone() == (1,)
    assert status(db, listing_id) == "expired"
    assert api.one("submit_listing", seller.token, listing_id) == "pending"


# -- edit, price, bump ------------------------------------------------------------------------


def test_edit_listing(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, make_user: MakeUser
) -> None:
    listing_id = listings.create(seller, "part")
    api.one(
        "edit_listing",
        seller.token,
        listing_id,
        Jsonb({"title": "Колодки Brembo", "photos": ["z.jpg", "a.jpg"]}),
    )
    card = api.card(listing_id, seller.token)
    assert card["title"] == "Колодки Brembo" and card["photos"] == ["z.jpg", "a.jpg"]
    matched = db.execute(
        "select search_vector @@ websearch_to_tsquery('russian', 'brembo') from core.listings where id = %s",
        [listing_id],
    ).fetchone()
    assert matched == (True,)
    for changes in (
        {"price_amount": 1},
        {"colour": "red"},
        {},
        {"attributes": {"condition": "broken"}},
        {"quantity": -1},
        {"title": "x"},
        {"photos": "a.jpg"},
    ):
        api.fails("22023", "edit_listing", seller.token, listing_id, Jsonb(changes))
    api.fails("42501", "edit_listing", make_user("Other").token, listing_id, Jsonb({"title": "Mine now"}))
    # a moderator edits a listing waiting for moderation, and it is audited
    api.one("submit_listing", seller.token, listing_id)
    api.one("edit_listing", moderator.token, listing_id, Jsonb({"description": "Fixed typo"}))
    assert db.execute("select action from core.audit_log order by id desc limit 1").fetchone() == (
        "edit_listing",
    )


def test_price_changes_are_kept(api: Api, listings: Listings, seller: User, moderator: User) -> None:
    listing_id = listings.publish(seller, moderator, listings.create(seller, "part"))
    api.one("change_price", seller.token, listing_id, 140000, 120000, 10)
    api.one("change_price", seller.token, listing_id, 140000, 120000, 10)  # no change, no history row
    # what is left out stays: a new unit price keeps the wholesale tier
    api.one("change_price", seller.token, listing_id, 130000, None, None)
    api.named("change_price", p_token=seller.token, p_listing_id=listing_id, p_wholesale_min_quantity=20)
    api.named("change_price", p_token=seller.token, p_listing_id=listing_id, p_clear_wholesale=True)
    history = api.rows("price_history", listing_id)
    assert [(r[1], r[3], r[4]) for r in history] == [
        (150000, None, None),
        (140000, 120000, 10),
        (130000, 120000, 10),
        (130000, 120000, 20),
        (130000, None, None),
    ]
    api.fails("22023", "change_price", seller.token, listing_id, 0, None, None)
    api.fails("22023", "change_price", seller.token, listing_id, 100, 100, 5)
    api.fails("22023", "change_price", seller.token, listing_id, None, None, None)  # nothing to change
    api.fails(
        "22023", "change_price", seller.token, listing_id, None, 5000, None
    )  # a price without its minimum
    api.fails("22023", "change_price", seller.token, listing_id, None, 5000, 5, True)  # clear and set
    api.fails("22023", "change_price", seller.token, listing_id, 120000, None, None, None)
    api.fails("P0002", "price_history", 10**9)


def test_bump_moves_the_sort_date_once_per_interval(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User
) -> None:
    listing_id = listings.create(seller, "part")
    api.fails("55000", "bump_listing", seller.token, listing_id)
    listings.publish(seller, moderator, listing_id)
    db.execute(
        "update core.listings set sort_date = now() - interval '3 days', "
        "created_at = now() - interval '3 days' "
        "where id = %s",
        [listing_id],
    )
    api.one("bump_listing", seller.token, listing_id)
    row = db.execute(
        "select sort_date = now(), created_at < now() - interval '2 days' from core.listings where id = %s",
        [listing_id],
    ).fetchone()
    assert row == (True, True)
    error = api.fails("BZ429", "bump_listing", seller.token, listing_id)
    assert "after" in (error.diag.message_hint or "")


# -- fitment ----------------------------------------------------------------------------------


def test_fitment_by_seller_and_moderator(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, model: Any
) -> None:
    part = listings.create(seller, "part")
    camry, rio = model("Toyota", "Camry"), model("Kia", "Rio")
    api.one("add_fitment", seller.token, part, camry, 2011, 2017)
    api.one("add_fitment", moderator.token, part, rio, 2011, 2017)
    fitment = api.card(part, seller.token)["fitment"]
    assert [(f["make"], f["model"], f["year_from"]) for f in fitment] == [
        ("Kia", "Rio", 2011),
        ("Toyota", "Camry", 2011),
    ]
    assert db.execute("select action from core.audit_log order by id desc limit 1").fetchone() == (
        "add_fitment",
    )
    car = listings.create(seller, "car")
    api.fails("22023", "add_fitment", seller.token, car, camry, 2011, 2017)
    api.fails("22023", "add_fitment", seller.token, part, 10**9, 2011, 2017)
    api.fails("22023", "add_fitment", seller.token, part, camry, 2017, 2011)
    api.one("remove_fitment", seller.token, part, rio, 2011)
    api.fails("P0002", "remove_fitment", seller.token, part, rio, 2011)


# -- favorites and reactions -------------------------------------------------------------------


def test_favorites(api: Api, listings: Listings, seller: User, moderator: User, user: User) -> None:
    listing_id = listings.publish(seller, moderator, listings.create(seller, "part"))
    draft = listings.create(seller, "service")
    assert api.one("add_favorite", user.token, listing_id) == 1
    assert api.one("add_favorite", user.token, listing_id) == 1  # again: no change
    assert api.one("add_favorite", seller.token, listing_id) == 2
    assert [r[0] for r in api.rows("favorites", user.token)] == [listing_id]
    assert api.one("remove_favorite", user.token, listing_id) == 1
    api.fails("P0002", "remove_favorite", user.token, listing_id)
    api.fails("P0002", "add_favorite", user.token, draft)
    api.fails("28000", "add_favorite", None, listing_id)
    assert api.card(listing_id)["favorite_count"] == 1


@pytest.mark.parametrize(
    ("before", "action", "after"),
    [
        (None, "like", "like"),  # none -> like creates a like
        (None, "dislike", "dislike"),  # none -> dislike creates a dislike
        ("like", "like", None),  # like -> like removes it
        ("dislike", "dislike", None),  # dislike -> dislike removes it
        ("like", "dislike", "dislike"),  # like -> dislike flips
        ("dislike", "like", "like"),  # dislike -> like flips
    ],
)
def test_the_six_reaction_transitions_keep_exact_counts(
    api: Api,
    listings: Listings,
    seller: User,
    moderator: User,
    make_user: MakeUser,
    before: str | None,
    action: str,
    after: str | None,
) -> None:
    listing_id = listings.publish(seller, moderator, listings.create(seller, "part"))
    bystander, me = make_user("Bystander"), make_user("Me")
    api.one("react", bystander.token, listing_id, "like")
    api.one("react", bystander.token, listing_id, "like")
    api.one("react", bystander.token, listing_id, "dislike")  # the bystander ends on one dislike
    if before is not None:
        api.one("react", me.token, listing_id, before)
    reaction, likes, dislikes = api.one("react", me.token, listing_id, action)
    assert reaction == after
    assert (likes, dislikes) == ((after == "like") + 0, 1 + (after == "dislike"))
    card = api.card(listing_id)
    assert (card["like_count"], card["dislike_count"]) == (likes, dislikes)


def test_react_refusals(api: Api, listings: Listings, seller: User, user: User) -> None:
    draft = listings.create(seller, "part")
    api.fails("P0002", "react", user.token, draft, "like")
    api.fails("22023", "react", user.token, draft, "love")
    api.fails("P0002", "react", user.token, 10**9, "like")


# -- ads and promotion -------------------------------------------------------------------------


def test_ad_insert_and_campaign(
    api: Api, listings: Listings, seller: User, moderator: User, category: dict[str, int]
) -> None:
    listing_id = listings.publish(seller, moderator, listings.create(seller, "part"))
    api.fails("42501", "set_ad_insert", seller.token, listing_id, "Buy my stuff")
    api.one("set_ad_insert", moderator.token, listing_id, "Шиномонтаж -20%")
    assert api.card(listing_id)["advertisement"] == "Шиномонтаж -20%"
    api.one("set_ad_insert", moderator.token, listing_id, None)
    _campaign, placed = api.one(
        "create_ad_campaign", moderator.token, category["brakes"], "Brembo week", "Discounts", "2100-01-01"
    )
    assert placed == listing_id  # the only published listing under "brakes"
    assert api.card(listing_id)["advertisement"] == "Brembo week: Discounts"
    api.fails(
        "P0002", "create_ad_campaign", moderator.token, category["upholstery"], "Seats", "x", "2100-01-01"
    )
    api.fails("22023", "create_ad_campaign", moderator.token, category["brakes"], "Past", "x", "2000-01-01")
    api.fails("42501", "create_ad_campaign", seller.token, category["brakes"], "Mine", "x", "2100-01-01")


def test_promoted_listings_come_first_in_the_feed(
    api: Api, listings: Listings, seller: User, moderator: User
) -> None:
    old = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Old but promoted"))
    new = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Newer"))
    api.db.execute("update core.listings set sort_date = now() - interval '1 day' where id = %s", [old])
    api.one("promote_listing", moderator.token, old, "2100-01-01")
    feed = [r["listing_id"] for r in api.search(p_seller_id=seller.id)]
    assert feed[:2] == [old, new]
    assert [r["promoted"] for r in api.search(p_seller_id=seller.id)][:2] == [True, False]
    api.fails("22023", "promote_listing", moderator.token, old, "2000-01-01")
    api.fails("42501", "promote_listing", seller.token, old, "2100-01-01")


# -- the card ---------------------------------------------------------------------------------


def test_card_is_public_only_once_published(
    api: Api, listings: Listings, seller: User, moderator: User, user: User
) -> None:
    listing_id = listings.create(seller, "part", p_contact_phone="8 916 000-00-01")
    api.fails("P0002", "listing_card", listing_id)
    api.fails("P0002", "listing_card", listing_id, user.token)
    assert api.card(listing_id, moderator.token)["listing_id"] == listing_id
    listings.publish(seller, moderator, listing_id)
    card = api.card(listing_id)
    assert (card["status"], card["seller_name"], card["available_quantity"]) == ("published", "Seller", 1)
    assert "contact_phone" not in card  # contacts are shown by api.open_contacts, which logs the click
    api.fails("P0002", "listing_card", 10**9)
