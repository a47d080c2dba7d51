"""Saved searches are matched in one statement (core.saved_search_matches, ADR 0022): the same
answer as running each search's own api.search condition (core.search_condition), for hundreds of
random searches against listings of every kind."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from psycopg.types.json import Jsonb

from tests.sql.conftest import Api, Conn, Listings, MakeUser, User, match_saved_searches

# What api.search itself would answer for one saved search and one listing: its condition, built by
# core.search_condition and run with the search's values, as matching ran before ADR 0022.
ORACLE = """
create function pg_temp.search_finds(p_search_id bigint, p_listing_id bigint) returns boolean
language plpgsql as $$
declare
    s core.saved_searches;
    v_found boolean;
begin
    select * into s from core.saved_searches as x where x.id = p_search_id;
    execute 'select exists (select from core.listings as l where l.id = $24 and '
        || core.search_condition(
            case when s.query is null then 'none' else 'text' end, s.kind::text,
            core.category_subtree(s.category_id), s.brand, s.make_id, s.model_id, s.year, s.price_min,
            s.price_max, s.region, s.city, s.condition, s.seller_type, s.has_photos, null, null, s.tag)
        || ')'
    into v_found
    using websearch_to_tsquery('russian', s.query), lower(s.query), core.normalize_part_number(s.query),
        s.kind::text, core.category_subtree(s.category_id), s.brand, s.make_id, s.model_id, s.year,
        s.price_min, s.price_max, s.currency, s.region, s.city, s.condition, s.seller_type, s.has_photos,
        null::bigint, null::bigint, null::text, null::text, null::integer, s.tag, p_listing_id;
    return v_found;
end
$$
"""


def random_search(rng: random.Random, ids: dict[str, Any]) -> dict[str, Any]:
    """A saved search with two to four filters, each drawn from values that match one of the
    listings, match none, or sit on a boundary."""
    pools: dict[str, list[Any]] = {
        "query": ["колодки", "Camry", "0986494294", "0 986 494 294", "седан", "-колодки", "шины"],
        "kind": ["car", "part", "service"],
        "category_id": [ids["cars"], ids["parts"], ids["brakes"], ids["brake-pads"], ids["passenger-cars"]],
        "brand": ["bosch", "BOSCH", "Brembo", "Toyota"],
        "make_id": [ids["toyota"], ids["bmw"]],
        "model_id": [ids["camry"], ids["x5"]],
        "year": [2011, 2012, 2018, 2019],
        "price_min": [0, 3000, 3001, 1_500_000],
        "price_max": [2999, 3000, 1_500_000, 10_000_000],
        "currency": ["RUB", "USD"],
        "region": ["Москва", "москва", "Татарстан"],
        "city": ["Москва", "Казань", "казань"],
        "condition": ["new", "used"],
        "seller_type": ["private", "shop"],
        "has_photos": [True, False],
        "tag": ["sedan", "brakes", "winter"],
    }
    chosen = rng.sample(sorted(pools), rng.randint(2, 4))
    search = {key: rng.choice(pools[key]) for key in chosen}
    if "price_min" in search and "price_max" in search and search["price_min"] > search["price_max"]:
        search["price_min"], search["price_max"] = search["price_max"], search["price_min"]
    return search


def test_one_statement_finds_what_each_search_finds(
    api: Api,
    db: Conn,
    listings: Listings,
    make_user: MakeUser,
    moderator: User,
    category: dict[str, int],
    model: Callable[[str, str], int],
) -> None:
    seller = make_user("Seller")
    camry, x5 = model("Toyota", "Camry"), model("BMW", "X5")
    car = listings.create(
        seller, "car", p_title="Toyota Camry седан", p_price_amount=1_500_000, p_region="Москва",
        p_city="Москва", p_photos=["p/car.jpg"], p_tags=["sedan"],
    )  # fmt: skip
    part = listings.create(
        seller, "part", p_title="Колодки тормозные Bosch", p_brand="Bosch", p_price_amount=3000,
        p_region="Татарстан", p_city="Казань", p_tags=["brakes"],
    )  # fmt: skip
    api.one("add_fitment", seller.token, part, camry, 2012, 2018)
    for listing in (car, part):
        listings.publish(seller, moderator, listing)
    makes = dict(
        db.execute("select name, id from core.vehicle_makes where name in ('Toyota', 'BMW')").fetchall()
    )
    ids = {**category, "toyota": makes["Toyota"], "bmw": makes["BMW"], "camry": camry, "x5": x5}
    watchers = [make_user(f"Watcher {i}") for i in range(3)]
    db.execute("update core.settings set value = '200' where key = 'saved_search_limit'")
    rng = random.Random(22)  # noqa: S311 (seeded: the same searches every run)
    for number in range(400):
        filters = random_search(rng, ids)
        query = filters.pop("query", None)
        api.one("save_search", watchers[number % 3].token, f"s{number}", query, Jsonb(filters))
    db.execute(ORACLE)
    compared = 0
    for listing in (car, part):
        expected = db.execute(
            "select s.id from core.saved_searches as s where s.user_id = any(%s) "
            "and pg_temp.search_finds(s.id, %s) order by 1",
            [[w.id for w in watchers], listing],
        ).fetchall()
        found = db.execute(
            "select m.saved_search_id from core.saved_search_matches(%s) as m "
            "where m.user_id = any(%s) order by 1",
            [listing, [w.id for w in watchers]],
        ).fetchall()
        assert found == expected, f"listing {listing}"
        compared += len(expected)
    assert compared >= 20, "the random searches must match something, or the comparison proves little"


def test_each_watcher_hears_once_and_the_seller_and_the_blocked_never(
    api: Api, db: Conn, listings: Listings, make_user: MakeUser, moderator: User, category: dict[str, int]
) -> None:
    seller, watcher, blocked = make_user("Seller"), make_user("Watcher"), make_user("Blocked")
    for person in (seller, watcher, blocked):
        api.one("save_search", person.token, "pads", "колодки", Jsonb({}))
        api.one("save_search", person.token, "brakes", None, Jsonb({"category_id": category["brakes"]}))
    db.execute(
        "update core.users set blocked_at = now(), blocked_reason = 'spam' where id = %s", [blocked.id]
    )
    db.execute("update core.notifications set delivered_at = now() where delivered_at is null")
    listing = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Колодки Bosch"))
    db.execute("delete from core.saved_search_queue where listing_id <> %s", [listing])
    assert match_saved_searches(db) == {"listings": 1, "notified": 1, "failed": 0}
    told = db.execute(
        "select user_id, payload ->> 'name' from core.notifications "
        "where kind = 'saved_search_match' and (payload ->> 'listing_id')::bigint = %s and channel = 'email'",
        [listing],
    ).fetchall()
    assert told == [(watcher.id, "pads")]  # the older of the two searches that match
