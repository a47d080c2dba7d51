"""Hostile input cannot break the api: every `api` function, called by signed-in people of every
kind (buyer, shop seller, moderator, admin, blocked) with hostile values in its other arguments,
either works or raises a SQLSTATE that docs/errors.md documents for that function.

* The functions come from the catalog, so a new function is fuzzed (and must be documented) the
  day it is added.
* Tokens are valid sessions most of the time: a fuzzer whose calls stop at "bad token" tests
  nothing. Ids are those of real objects of other people as often as nonsense.
* Every call runs in a savepoint that is rolled back, as the role that really calls it, under a
  statement timeout: a call that is cut (57014) is a finding too.
* Around the whole module: the database (every table of core and ops, large objects) is the same
  afterwards, and the connection holds no session-level lock.

BAZAAR_FUZZ_EXAMPLES (default 40) sets the examples per function; BAZAAR_FUZZ_RANDOM=1 explores
new inputs instead of the fixed, reproducible sequence CI runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.fuzz import world as world_module
from tests.fuzz.world import World

Conn = psycopg.Connection[Any]
ERRORS_MD = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
EXAMPLES = int(os.environ.get("BAZAAR_FUZZ_EXAMPLES", "40"))
STATEMENT_TIMEOUT = "3s"
# Codes every function that takes a token may raise (docs/errors.md says so once for all).
TOKEN_CODES = {"28000", "42501"}


# -- what docs/errors.md promises ---------------------------------------------------------------


def documented_codes() -> dict[str, set[str]]:
    """api function name -> the SQLSTATEs its row in "Errors by function" names."""
    text = ERRORS_MD.read_text()
    section = text.split("## Errors by function", 1)[1].split("\n## ", 1)[0]
    codes: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        found = set(re.findall(r"\b(?:\d[0-9A-Z]{4}|P0\d{3}|BZ\d{3})\b", cells[1]))
        for name in re.findall(r"`api\.(\w+)", cells[0]):
            codes.setdefault(name, set()).update(found)
    return codes


DOCUMENTED = documented_codes()


# -- the functions, from the catalog ------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[tuple[str, str], ...]  # (name, type) in order
    required: int
    role: str
    volatile: bool


FUNCTIONS_SQL = """
select p.proname, p.proargnames[1:p.pronargs],
    array(select format_type(t, null) from unnest(p.proargtypes) as t),
    p.pronargs - p.pronargdefaults,
    case when has_function_privilege('bazaar_app', p.oid, 'execute') then 'bazaar_app'
         else 'bazaar_worker' end,
    p.provolatile = 'v'
from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
where n.nspname = 'api' and p.prokind = 'f'
order by p.proname
"""


def catalog_functions(conn: Conn) -> dict[str, Function]:
    result = {}
    for name, arg_names, arg_types, required, role, volatile in conn.execute(FUNCTIONS_SQL):
        args = tuple(zip(arg_names or [], arg_types, strict=True))
        result[name] = Function(name, args, required, role, volatile)
    return result


# -- the world and the guard around the module --------------------------------------------------


def digest(conn: Conn) -> dict[str, str]:
    """md5 of every table of core and ops, and the large objects: what must not change."""
    tables = conn.execute(
        "select c.oid::regclass::text from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname in ('core', 'ops') and c.relkind = 'r' order by 1"
    ).fetchall()
    result = {}
    for (table,) in tables:
        row = conn.execute(
            sql.SQL(
                "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t"
            ).format(sql.SQL(table))
        ).fetchone()
        result[table] = str(row)
    result["large objects"] = str(conn.execute("select count(*) from pg_largeobject_metadata").fetchone())
    return result


@dataclass
class Fuzzing:
    conn: Conn
    world: World
    functions: dict[str, Function]
    readers: list[Reader]


@pytest.fixture(scope="module")
def fuzzing(bazaar_dsn: str) -> Iterator[Fuzzing]:
    with psycopg.connect(bazaar_dsn, autocommit=True) as watcher, psycopg.connect(bazaar_dsn) as conn:
        before = digest(watcher)
        conn.execute("select 'fuzzing begins'")
        world = world_module.build(conn)
        yield Fuzzing(conn, world, catalog_functions(conn), readers(world))
        conn.rollback()
        leftover = conn.execute(
            "select count(*) from pg_locks where pid = pg_backend_pid() and locktype = 'advisory'"
        ).fetchone()
        assert leftover == (0,), "a function left a session-level advisory lock behind"
        after = digest(watcher)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert changed == [], f"the fuzzed calls changed the database: {changed}"


# -- hostile values ----------------------------------------------------------------------------

INT4 = (-(2**31), 2**31 - 1)
INT8 = (-(2**63), 2**63 - 1)
HOSTILE_TEXT = [
    "",
    " ",
    "\t\n ",
    "a",
    "ab",
    "x" * 121,
    "x" * 201,
    "x" * 4001,
    "ы" * 5001,
    "z" * 70_000,
    "-" * 34,
    "-" * 40,
    "- " * 60,
    "!" * 40,
    "(" * 40,
    '"' * 41,
    "a or " * 40,
    "'; drop table core.users; --",
    "%s %I %L %%",
    "\\",
    "\\\\x00",
    "\u200b",
    "Ad\u200bmin",
    "\u202eevil",
    "A\u0301",
    "\ufeffBOM",
    "\u00ad",
    "\u2028",
    "\x07bell",
    "\x1b[31m",
    "😀" * 50,
    "\uffff",
    "null",
    "[]",
    "{}",
    "NaN",
    "-1",
    "0",
    "1e309",
    "2015.0",
    "infinity",
    "-infinity",
    "0x10",
    "+79161234567",
    "8 916 123-45-67",
    "user@example.com",
    "a@b",
    "@",
    "tag " * 20,
    "Москва",
    "москва",
    "  Москва  ",
    "RUB",
    "rub",
    "car",
    "part",
    "service",
    "user",
    "admin",
    "owner",
    "like",
    "new",
    "shop",
    "newest",
    "relevance",
    "123456",
    "000000",
    "12345",
    "correct horse battery",
    "x" * 73,
    "é" * 40,
    "card",
    "fuzz-worker",
    "eyJzIjoibmV3ZXN0In0",
    "1 day",
    "-1 day",
    "10 minutes",
    "100000 years",
    " ".join(f"w{i}x" for i in range(3200)),
    "1e999999",
    "-1e131071",
    "1e-999999",
    "b" * 1_100_000,
]
safe_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
hostile_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(safe_chars, max_size=250))

PLAUSIBLE_TEXT: dict[str, list[str | None]] = {
    "p_kind": ["car", "part", "service"],
    "p_role": ["user", "moderator", "admin", "owner", "manager", "seller"],
    "p_reaction": ["like", "dislike"],
    "p_as": ["buyer", "seller"],
    "p_status": ["draft", "pending", "published", "sold", "archived"],
    "p_sort": ["newest", "price_asc", "price_desc", "relevance"],
    "p_currency": ["RUB", "USD"],
    "p_source": ["card", "search", "channel"],
    "p_condition": ["new", "used"],
    "p_seller_type": ["shop", "private"],
    "p_code": ["123456", "000000"],
    "p_password": [world_module.PASSWORD, "another password"],
    "p_old_password": [world_module.PASSWORD, "another password"],
    "p_new_password": ["a new passphrase", "short"],
    "p_tag": ["brakes", "новый"],
    "p_query": ["колодки", "Toyota Camry", "0 986 494 294", "bosch -bmw", '"тормозные колодки"'],
    "p_idempotency_key": ["fuzz-key-1", "fuzz-key-2"],
    "p_fingerprint": ["fingerprint-1", "fp"],
    "p_make": ["Toyota", "BMW"],
    "p_region": ["Москва", "Татарстан"],
    "p_city": ["Москва", "Казань"],
    "p_title": ["Тормозные колодки", "Toyota Camry 2018"],
    "p_name": ["Fuzz Parts", "Мой магазин", "brakes"],
    "p_display_name": ["Иван", "Fuzz buyer"],
}
SETTING_KEYS = [
    "session_lifetime",
    "bcrypt_cost",
    "sign_in_failure_limit",
    "max_photos",
    "search_page_max",
    "chat_flood_limit",
    "chat_delete_roles",
    "reservation_lifetime",
    "cart_max_lines",
    "saved_search_limit",
    "outbox_max_attempts",
    "max_tags_per_listing",
    "click_retention",
    "no_such_setting",
]
JSON_KEYS = [
    "title",
    "description",
    "brand",
    "model_id",
    "region",
    "city",
    "quantity",
    "contact_name",
    "contact_phone",
    "attributes",
    "photos",
    "tags",
    "price_amount",
    "kind",
    "category_id",
    "make_id",
    "year",
    "price_min",
    "price_max",
    "currency",
    "condition",
    "seller_type",
    "has_photos",
    "tag",
    "part_number",
    "mileage_km",
    "body",
    "engine",
    "transmission",
    "lead_time_days",
    "materials",
    "capabilities",
    "",
]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(*INT8),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2015.0, 1e300, -0.0, 0.5]),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(JSON_KEYS) | hostile_text, inner, max_size=4),
    ),
    max_leaves=12,
)


def _raw_json(value: str) -> Any:
    """JSON text the fuzzer writes by hand (nesting deeper than Python's json writes comfortably).

    JSON with \\u0000 is not among it: PostgreSQL's jsonb input refuses it (22P05) before any
    function is called, so no function can do better."""
    return _RawJson(value)


class _RawJson(str):
    pass


json_hostile = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(JSON_KEYS), json_values, min_size=1, max_size=6),
    st.sampled_from([_raw_json("[" * 500 + "]" * 500), _raw_json('{"a": ' * 300 + "1" + "}" * 300)]),
)


def timestamps() -> st.SearchStrategy[str]:
    now = datetime.now(UTC)
    return st.sampled_from(
        [
            "infinity",
            "-infinity",
            "2000-01-01T00:00:00Z",
            "4713-01-01 BC",
            "294276-12-31T00:00:00Z",
            (now - timedelta(days=1)).isoformat(),
            (now + timedelta(hours=1)).isoformat(),
            (now + timedelta(days=3650)).isoformat(),
        ]
    )


ID_KINDS = {
    "p_listing_id": "listing",
    "p_user_id": "user",
    "p_buyer_id": "user",
    "p_seller_id": "user",
    "p_shop_id": "shop",
    "p_order_id": "order",
    "p_deal_id": "deal",
    "p_review_id": "review",
    "p_message_id": "message",
    "p_before_id": "message",
    "p_channel_id": "channel",
    "p_notification_id": "notification",
    "p_id": "notification",
    "p_saved_search_id": "saved_search",
    "p_promotion_order_id": "promotion_order",
    "p_category_id": "category",
    "p_model_id": "model",
    "p_make_id": "make",
}
VALID_INTEGERS = {
    "p_quantity": [1, 2, 3],
    "p_limit": [1, 10, 50],
    "p_days": [1, 30],
    "p_batch": [1, 10],
    "p_rating": [1, 5],
    "p_year": [2012, 2018],
    "p_year_from": [2010, 2015],
    "p_year_to": [2016, 2020],
    "p_wholesale_min_quantity": [3, 10],
    "p_price_amount": [90000, 150000, 200000],
    "p_price_min": [0, 10000],
    "p_price_max": [500000, 10**9],
    "p_wholesale_price_amount": [50000, 80000],
    "p_telegram_chat_id": [-100777, -100888],
    "p_chat_id": [123456, 777],
    "p_telegram_message_id": [42],
}
VALID_TEXT: dict[str, list[str | None]] = {
    **PLAUSIBLE_TEXT,
    "p_description": ["Оригинал, новые", ""],
    "p_body": ["Хороший продавец"],
    "p_message": ["Цена снижена"],
    "p_reason": ["нарушение правил", None],
    "p_text": ["Скидка 10%", None],
    "p_brand": ["Bosch", None],
    "p_contact_name": ["Иван", None],
    "p_email": ["new@example.com"],
    "p_phone": ["+79161112233"],
    "p_contact_phone": ["+79161112233", None],
}
VALID_JSON: dict[str, list[Any]] = {
    "p_attributes": [
        {"part_number": "0 986 494 294", "condition": "new"},
        {
            "year": 2018,
            "mileage_km": 64000,
            "body": "sedan",
            "engine": "2.5 petrol",
            "transmission": "automatic",
        },
        {"lead_time_days": 7, "materials": "steel", "capabilities": "brackets"},
    ],
    "p_changes": [
        {"title": "Новое название"},
        {"quantity": 3},
        {"tags": ["brakes"]},
        {"photos": ["a/1.jpg"]},
        {"attributes": {"part_number": "123", "condition": "used"}},
        {"brand": "ATE"},
    ],
    "p_filters": [{"kind": "part"}, {"year": 2015}, {"price_max": 100000, "currency": "RUB"}, {}],
    "p_value": [10, 5, "1 hour", ["author", "moderator"]],
}


def valid(name: str, type_: str, world: World) -> st.SearchStrategy[Any]:
    """What a well-behaved client sends: real ids, sessions, plausible values."""
    if name == "p_token":
        return st.sampled_from(sorted(v for k, v in world.tokens.items() if k != "blocked"))
    if name in ID_KINDS:
        return st.sampled_from(world.ids[ID_KINDS[name]])
    if type_ in ("bigint", "integer"):
        return st.sampled_from(VALID_INTEGERS.get(name, [1, 10]))
    if type_ == "boolean":
        return st.booleans()
    if type_ == "timestamp with time zone":
        return st.just((datetime.now(UTC) + timedelta(days=7)).isoformat())
    if type_ == "jsonb":
        return st.sampled_from(VALID_JSON[name])
    if type_ == "text[]":
        return st.sampled_from(
            {"p_photos": [["a/1.jpg", "b/2.jpg"]], "p_tags": [["brakes", "bosch"]]}.get(
                name, [["email"], ["sms", "email"]]
            )
        )
    if name == "p_cursor":
        return st.sampled_from(world.cursors[:3])
    if name == "p_key":
        return st.sampled_from(SETTING_KEYS[:-1])
    if name in ("p_identifier",):
        return st.sampled_from(world.emails + world.phones)
    if name == "p_worker":
        return st.sampled_from(world.workers)
    texts: list[str | None] = VALID_TEXT.get(name, ["Тест", "test value"])
    return st.sampled_from(texts)


HOSTILE_JSON: list[Any] = [
    None,
    [],
    {},
    "x",
    1,
    True,
    [[[]]],
    {"title": None},
    {"year": 2015.0},
    {"year": "2015.0"},
    {"year": "abc"},
    {"year": 10**30},
    {"year": -1},
    {"year": 2015.5},
    {"price_max": 1e300},
    {"price_min": "1"},
    {"kind": "boat"},
    {"category_id": 10**19},
    {"category_id": -1},
    {"model_id": "x"},
    {"make_id": 1.5},
    {"has_photos": "maybe"},
    {"tag": "-"},
    {"currency": "rub"},
    {"condition": 1},
    {"title": "x" * 200},
    {"brand": "x" * 70_000},
    {"contact_name": "y" * 1_000_000},
    {"description": 5},
    {"quantity": "many"},
    {"quantity": 10**12},
    {"quantity": 0},
    {"photos": "a"},
    {"photos": [1, None]},
    {"photos": ["x"] * 300},
    {"tags": "a"},
    {"tags": [["a"]]},
    {"tags": ["x"] * 50},
    {"attributes": []},
    {"attributes": {"year": "2015.0"}},
    {"region": ""},
    {"model_id": None},
    {"price_amount": 1},
    {"mileage_km": 1e300},
    {"part_number": "-" * 100},
    {"": 1},
    {"lead_time_days": "7.0"},
    {"a" * 1000: 1},
    _raw_json("[" * 1000 + "]" * 1000),
    -1,
    1e300,
    "1 day",
    "-1 day",
    "99999 years",
    ["author", "nobody"],
    [1],
    99,
    4,
    0.5,
    "10",
]


HOSTILE_JSON_SCALARS: list[Any] = [
    None,
    "",
    " ",
    "x" * 10_000,
    "y" * 1_100_000,
    "-" * 40,
    "\u200b",
    "abc",
    -1,
    0,
    0.5,
    2015.0,
    "2015.0",
    "2015",
    "1e999999",
    "1e-999999",
    1e300,
    10**30,
    2**63,
    True,
    [],
    {},
    [None],
    {"a": 1},
]


def mutations(good: Any) -> list[Any]:
    """GOOD with one key at a time replaced by a hostile scalar or left out (one level into nested
    objects), and with an unknown key added: a known-good JSON value made bad in one place."""
    if not isinstance(good, dict):
        return []
    result: list[Any] = [{**good, "unknown_key": 1}]
    for key, value in good.items():
        result.append({k: v for k, v in good.items() if k != key})
        result += [{**good, key: bad} for bad in HOSTILE_JSON_SCALARS]
        result += [{**good, key: inner} for inner in mutations(value)]
    return result


def hostile_values(name: str, type_: str, world: World, good: Any = None) -> list[Any]:
    """The curated hostile values of an argument, each of which the sweep tries (GOOD: the value of
    the background call, mutated for JSON)."""
    if name == "p_token":
        others = [t for k, t in sorted(world.tokens.items()) if t != good]
        return [*others, None, "", "0" * 64, "not a token", "x" * 100_000]
    if type_ in ("bigint", "integer"):
        low, high = INT8 if type_ == "bigint" else INT4
        edges = [None, 0, -1, 1, 2, 100_000, 100_001, 10**6, 2**31 - 1, low, high, low + 1, high - 1]
        return edges + (world.all_ids() if type_ == "bigint" else [])
    if type_ == "boolean":
        return [None]
    if type_ == "timestamp with time zone":
        return [
            None,
            "infinity",
            "-infinity",
            "2000-01-01T00:00:00Z",
            "4713-01-01 BC",
            "294276-12-31T00:00:00Z",
        ]
    if type_ == "jsonb":
        return HOSTILE_JSON + mutations(good)
    if type_ == "text[]":
        return [
            None,
            [],
            [None],
            [""],
            ["x" * 10_000],
            ["x"] * 300,
            [["nested"]],
            ["-" * 40],
            ["\u200b"],
            ["telegram", "telegram"],
            ["a/1.jpg", "a/1.jpg"],
        ]
    return [*HOSTILE_TEXT, None, *(world.cursors if name == "p_cursor" else [])]


def hostile(name: str, type_: str, world: World) -> st.SearchStrategy[Any]:
    """What an attacker or a broken client sends: boundaries, junk, and other people's ids."""
    if name == "p_token":
        return st.one_of(
            st.just(world.tokens["blocked"]),
            st.sampled_from([None, "", "0" * 64, "not a token"]),
            hostile_text,
        )
    if type_ in ("bigint", "integer"):
        low, high = INT8 if type_ == "bigint" else INT4
        edges = [None, 0, -1, 1, 2, 100_000, 100_001, 2**31 - 1, low, high]
        return st.one_of(
            st.sampled_from(world.all_ids()) if type_ == "bigint" else st.integers(-5, 5),
            st.sampled_from(edges),
            st.integers(low, high),
        )
    if type_ == "boolean":
        return st.none()
    if type_ == "timestamp with time zone":
        return st.none() | timestamps()
    if type_ == "jsonb":
        return json_hostile
    if type_ == "text[]":
        element = (
            st.none() | st.sampled_from(["telegram", "email", "sms", "brakes", "a/b.jpg"]) | hostile_text
        )
        return st.one_of(
            st.none(), st.lists(element, max_size=30), st.just([["nested"]]), st.just(["x"] * 200)
        )
    assert type_ == "text", f"no strategy for {type_}"
    if name == "p_cursor":
        return st.none() | st.sampled_from(world.cursors) | hostile_text
    return st.none() | hostile_text


# -- the call --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A valid call that must keep working whatever a fuzzed write stored before it."""

    function: str
    role: str
    query: str
    params: tuple[Any, ...] = ()
    # rows -> what is wrong with them (None when they are right)
    expect: Callable[[list[tuple[Any, ...]]], str | None] | None = None


def readers(world: World) -> list[Reader]:
    buyer, seller, moderator = (world.tokens[k] for k in ("buyer", "seller", "moderator"))
    listings = world.ids["listing"]
    app = "bazaar_app"
    return [
        Reader("search", app, "select * from api.search(p_year => 2018)"),
        Reader(
            "search", app, "select * from api.search(p_kind => 'car', p_year => 2015, p_sort => 'price_asc')"
        ),
        Reader("search", app, "select * from api.search(p_query => 'колодки', p_sort => 'price_desc')"),
        Reader("search_facets", app, "select * from api.search_facets(p_year => 2018, p_query => 'Fuzz')"),
        Reader("cart", app, "select * from api.cart(%s)", (buyer,)),
        Reader("my_orders", app, "select * from api.my_orders(%s, 'buyer')", (buyer,)),
        Reader("my_orders", app, "select * from api.my_orders(%s, 'seller')", (seller,)),
        Reader("my_listings", app, "select * from api.my_listings(%s)", (seller,)),
        Reader("favorites", app, "select * from api.favorites(%s)", (buyer,)),
        Reader("saved_searches", app, "select * from api.saved_searches(%s)", (buyer,)),
        *(
            Reader("listing_card", app, "select * from api.listing_card(%s, %s)", (i, seller))
            for i in listings
        ),
        Reader("seller_listings", app, "select * from api.seller_listings(%s)", (world.ids["user"][1],)),
        Reader(
            "approve_listing", app, "select api.approve_listing(%s, %s)", (moderator, world.named["pending"])
        ),
        Reader("create_order", app, "select * from api.create_order(%s, %s, 2)", (buyer, world.named["car"])),
        Reader("cart_add", app, "select api.cart_add(%s, %s, 2)", (buyer, world.named["car"])),
        Reader("cart", app, "select * from api.cart(%s)", (buyer,)),
        Reader("login", app, "select * from api.login(%s, %s)", (world.emails[0], world_module.PASSWORD)),
        Reader(
            "register",
            app,
            "select api.register('Reader', %s, 'reader@example.com')",
            (world_module.PASSWORD,),
        ),
        Reader("post_message", app, "select api.post_message(%s, %s, 'reader')", (buyer, world.named["car"])),
        Reader(
            "edit_listing",
            app,
            'select api.edit_listing(%s, %s, \'{"photos": ["r/1.jpg"]}\')',
            (seller, world.named["car"]),
        ),
        Reader("request_sign_in_code", app, "select api.request_sign_in_code(%s)", (world.phones[0],)),
        # what pg_cron runs after approvals: no stored saved search may make it fail
        Reader(
            "ops.match_saved_searches",
            "postgres",
            "select ops.match_saved_searches()",
            expect=lambda rows: None if rows[0][0]["failed"] == 0 else f"matching failed: {rows[0][0]}",
        ),
        Reader("checkout", app, "select * from api.checkout(%s)", (buyer,)),
        Reader(
            "claim_notifications", "bazaar_worker", "select * from api.claim_notifications('reader', 1000)"
        ),
    ]


# Raised by a body that did not validate its input: never acceptable, whatever the docs say.
ALWAYS_WRONG = re.compile(r"^(XX000|22P02|22P05|54000|57014|2350[23]|23514|42(?!501).{3}|P0001|2201B)$")


def call(
    f: Fuzzing, function: Function, values: dict[str, Any]
) -> tuple[psycopg.Error | None, list[tuple[Reader, psycopg.Error | str]]]:
    """The error the call raised (or None), and when it succeeded and may have stored something,
    the readers that failed afterwards."""
    conn = f.conn
    arguments = []
    params: list[Any] = []
    for name, type_ in function.args:
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, _RawJson):
            arguments.append(sql.SQL("{} => %s::jsonb").format(sql.Identifier(name)))
            params.append(str(value))
            continue
        if type_ == "jsonb" and value is not None:
            value = Jsonb(value)
        arguments.append(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(type_)))
        params.append(value)
    query = sql.SQL("select * from api.{}({})").format(
        sql.Identifier(function.name), sql.SQL(", ").join(arguments)
    )
    broken: list[tuple[Reader, psycopg.Error | str]] = []
    with conn.transaction(force_rollback=True):
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("set local statement_timeout = {}; set local role {}").format(
                        sql.Literal(STATEMENT_TIMEOUT), sql.Identifier(function.role)
                    )
                )
                cur = conn.execute(query, params)
                if cur.description:
                    cur.fetchall()
                conn.execute("reset role")
        except psycopg.Error as exc:
            return exc, []
        if function.volatile:
            for reader in f.readers:
                try:
                    with conn.transaction():
                        conn.execute(
                            sql.SQL("set local statement_timeout = {}; set local role {}").format(
                                sql.Literal(STATEMENT_TIMEOUT), sql.Identifier(reader.role)
                            )
                        )
                        rows = conn.execute(reader.query, reader.params).fetchall()
                    wrong = reader.expect(rows) if reader.expect else None
                    if wrong:
                        broken.append((reader, wrong))
                except psycopg.Error as exc:
                    broken.append((reader, exc))
    return None, broken


def describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r:.80}" for k, v in values.items())


def allowed_codes(fuzzing: Fuzzing, name: str) -> tuple[Function, set[str]]:
    function = fuzzing.functions.get(name)
    assert function is not None, f"docs/errors.md documents api.{name}, which does not exist"
    return function, DOCUMENTED[name] | (
        TOKEN_CODES if any(a == "p_token" for a, _ in function.args) else set()
    )


# What a valid reader may meet after a fuzzed write changed the world: its session blocked or
# signed out, its listing gone or sold, its order already paid, a limit reached, a name taken.
# Never a bad-argument code: a stored value that makes a valid call "invalid" is the defect.
READER_REFUSALS = {"28000", "42501", "P0002", "55000", "BZ429", "23505"}


def judge(
    name: str,
    allowed: set[str],
    outcome: tuple[psycopg.Error | None, list[tuple[Reader, psycopg.Error | str]]],
    values: dict[str, Any],
) -> str | None:
    """None when the outcome is acceptable, else what is wrong with it."""
    error, broken = outcome
    for reader, failure in broken:
        if isinstance(failure, str):
            problem: str | None = failure
        elif failure.sqlstate in READER_REFUSALS:
            problem = None
        else:
            problem = f"{failure.sqlstate} ({failure.diag.message_primary})"
        if problem:
            return f"after api.{name}({describe(values)}) succeeded, {reader.query}: {problem}"
    if error is None:
        return None
    code = error.sqlstate or "?"
    message = error.diag.message_primary
    if ALWAYS_WRONG.match(code):
        return f"api.{name} raised {code} ({message}) for {describe(values)}"
    if code not in allowed:
        return (
            f"api.{name} raised {code} ({message}), which docs/errors.md does not list for it "
            f"(it lists {sorted(allowed)}), for {describe(values)}"
        )
    return None


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_the_background_call_succeeds(fuzzing: Fuzzing, name: str) -> None:
    """The sweep's starting point works: each hostile value is then the one thing wrong."""
    function, _ = allowed_codes(fuzzing, name)
    good = fuzzing.world.background.get(name)
    assert good is not None, f"tests/fuzz/world.py has no background call of api.{name}"
    error, broken = call(fuzzing, function, good)
    assert error is None, f"api.{name}({describe(good)}): {error and error.sqlstate} {error}"
    assert judge(name, set(), (None, broken), good) is None


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_hostile_value_in_each_argument(fuzzing: Fuzzing, name: str) -> None:
    """Every curated hostile value in every argument of the function's background call, the other
    arguments as they were: deterministic, so each known-dangerous input is tried on every run."""
    function, allowed = allowed_codes(fuzzing, name)
    world = fuzzing.world
    good = world.background[name]
    problems: list[str] = []
    for arg, type_ in function.args:
        for value in hostile_values(arg, type_, world, good.get(arg)):
            values = {**good, arg: value}
            outcome = call(fuzzing, function, values)
            problem = judge(name, allowed, outcome, values)
            if problem is None and outcome[0] is None and isinstance(value, str) and len(value) > 10_000:
                # every text argument has a documented bound: a megabyte is refused, not taken
                problem = f"api.{name} accepted {len(value):,} characters in {arg}"
            if problem and len(problems) < 20:
                problems.append(problem)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_hostile_arguments_get_a_documented_answer(fuzzing: Fuzzing, name: str) -> None:
    function, allowed = allowed_codes(fuzzing, name)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("BAZAAR_FUZZ_RANDOM") != "1",
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        # most arguments valid, one to three hostile: calls get past the first check into the body
        count = len(function.args)
        positions = st.lists(st.integers(0, count - 1), min_size=1, max_size=3) if count else st.just([])
        bad = set(data.draw(positions, label="bad"))
        values: dict[str, Any] = {}
        for position, (arg, type_) in enumerate(function.args):
            if position in bad:
                values[arg] = data.draw(hostile(arg, type_, fuzzing.world), label=arg)
            elif position < function.required or data.draw(st.booleans(), label=f"pass {arg}"):
                values[arg] = data.draw(valid(arg, type_, fuzzing.world), label=arg)
        problem = judge(name, allowed, call(fuzzing, function, values), values)
        assert problem is None, problem

    fuzz()


def test_every_api_function_is_documented(fuzzing: Fuzzing) -> None:
    assert sorted(set(fuzzing.functions) - set(DOCUMENTED)) == []
