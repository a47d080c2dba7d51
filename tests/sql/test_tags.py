"""Tags: normalised and stored once, a cap per listing, set on create and on edit, shown on the
card, a search and facet filter, and the most used tags per category for analysts."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.harness import as_role
from tests.sql.conftest import Api, Listings, MakeUser, User, match_saved_searches

Conn = psycopg.Connection[Any]
FACET_DEFAULTS = [*([None] * 9), "RUB", *([None] * 7)]  # api.search_facets' arguments before p_tag


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


def test_tags_are_normalised_and_stored_once(api: Api, db: Conn, listings: Listings, seller: User) -> None:
    first = listings.create(seller, p_tags=["  Оригинал ", "ОРИГИНАЛ", "made   in EU", "brake_pads", "r-2"])
    second = listings.create(seller, p_tags=["оригинал"])
    assert api.card(first, seller.token)["tags"] == ["brake_pads", "made in eu", "r-2", "оригинал"]
    assert api.card(second, seller.token)["tags"] == ["оригинал"]
    count = db.execute("select count(*) from core.tags where name = 'оригинал'").fetchone()
    assert count == (1,)


@pytest.mark.parametrize("bad", ["a", "x" * 31, "no!", "tag;drop", "", "   ", None, "emoji 🙂"])
def test_a_bad_tag_is_refused(api: Api, listings: Listings, seller: User, bad: str | None) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        listings.create(seller, p_tags=["fine", bad])
    listing = listings.create(seller)
    api.fails("22023", "edit_listing", seller.token, listing, Jsonb({"tags": ["fine", bad]}))


def test_the_cap_per_listing(api: Api, db: Conn, listings: Listings, seller: User) -> None:
    ten = [f"tag {i}" for i in range(10)]
    listing = listings.create(seller, p_tags=ten)
    assert len(api.card(listing, seller.token)["tags"]) == 10
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        listings.create(seller, p_tags=[*ten, "eleven"])
    api.fails("22023", "edit_listing", seller.token, listing, Jsonb({"tags": [*ten, "eleven"]}))
    # duplicates in any spelling count once
    listings.create(seller, p_tags=[*ten, "TAG 0", " tag  1"])
    db.execute("update core.settings set value = '2' where key = 'max_tags_per_listing'")
    api.fails("22023", "edit_listing", seller.token, listing, Jsonb({"tags": ["a1", "b2", "c3"]}))


def test_edit_replaces_the_tags(api: Api, listings: Listings, seller: User, make_user: MakeUser) -> None:
    listing = listings.create(seller, p_tags=["old one"])
    api.one("edit_listing", seller.token, listing, Jsonb({"tags": ["New", "second"]}))
    assert api.card(listing, seller.token)["tags"] == ["new", "second"]
    api.one("edit_listing", seller.token, listing, Jsonb({"tags": []}))
    assert api.card(listing, seller.token)["tags"] == []
    api.fails("22023", "edit_listing", seller.token, listing, Jsonb({"tags": "not a list"}))
    api.fails("42501", "edit_listing", make_user("Stranger").token, listing, Jsonb({"tags": ["x1"]}))


def test_tag_filter_in_search_and_facets(
    api: Api, listings: Listings, seller: User, moderator: User, category: dict[str, int]
) -> None:
    tagged = listings.publish(seller, moderator, listings.create(seller, p_tags=["Brembo"]))
    listings.publish(seller, moderator, listings.create(seller, p_tags=["other"]))
    listings.create(seller, p_tags=["brembo"])  # a draft: never found
    assert [r["listing_id"] for r in api.search(p_tag=" BREMBO ")] == [tagged]
    assert api.search(p_tag="nobody-uses-this") == []
    facets = api.rows("search_facets", *FACET_DEFAULTS, "brembo")
    assert [(f[0], int(f[1]), f[3]) for f in facets if f[0] == "category"] == [
        ("category", category["brake-pads"], 1)
    ]
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        api.search(p_tag="!")
    api.fails("22023", "search_facets", *FACET_DEFAULTS, "!")


def test_top_tags_per_category_for_analysts(
    db: Conn, listings: Listings, seller: User, moderator: User, category: dict[str, int]
) -> None:
    for tags in (["brembo", "new"], ["brembo"], ["brembo", "used"], ["new"]):
        listings.publish(seller, moderator, listings.create(seller, p_tags=tags))
    listings.create(seller, p_tags=["draft only"])  # not on sale: not counted
    with as_role(db, "bazaar_analyst"):
        rows = db.execute(
            "select tag, listings, rank from analytics.top_tags_per_category where category_id = %s "
            "order by rank, tag",
            [category["brake-pads"]],
        ).fetchall()
    assert rows == [("brembo", 3, 1), ("new", 2, 2), ("used", 1, 3)]


def test_a_saved_search_by_tag_is_told_of_a_newly_published_match(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, make_user: MakeUser
) -> None:
    watcher = make_user("Watcher")
    saved = api.one("save_search", watcher.token, "Brembo", None, Jsonb({"tag": "  BREMBO "}))
    assert [r[3] for r in api.rows("saved_searches", watcher.token) if r[0] == saved] == [{"tag": "brembo"}]
    api.fails("22023", "save_search", watcher.token, "Bad", None, Jsonb({"tag": "!"}))

    def matches() -> int:
        row = db.execute(
            "select count(*) from core.notifications where user_id = %s and kind = 'saved_search_match'",
            [watcher.id],
        ).fetchone()
        return int(row[0]) if row else 0

    listings.publish(seller, moderator, listings.create(seller, p_tags=["other"]))
    match_saved_searches(db)
    assert matches() == 0
    listings.publish(seller, moderator, listings.create(seller, p_tags=["Brembo"]))
    match_saved_searches(db)
    assert matches() > 0
