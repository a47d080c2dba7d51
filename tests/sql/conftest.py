"""Fixtures for testing api functions the way an application calls them: as bazaar_app, inside
the test's rolled-back transaction, with users and sessions made through the api itself."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.errors import Diagnostic
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.harness import as_role

Conn = psycopg.Connection[Any]
PASSWORD = "correct horse battery"
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_crypto(db: Conn) -> None:
    """bcrypt at its minimum cost: the tests check behaviour, not the work factor."""
    db.execute("update core.settings set value = '4' where key = 'bcrypt_cost'")


@dataclass(frozen=True)
class Notice:
    """What a WARNING/NOTICE said (psycopg's Diagnostic is only valid inside the handler)."""

    sqlstate: str | None
    message_primary: str | None
    message_detail: str | None


class Api:
    """Calls api functions as bazaar_app; each call in a savepoint so a failure leaves the test's
    transaction usable."""

    def __init__(self, db: Conn, role: str = "bazaar_app") -> None:
        self.db = db
        self.role = role
        self.notices: list[Notice] = []
        db.add_notice_handler(self._on_notice)

    def _on_notice(self, diag: Diagnostic) -> None:
        self.notices.append(Notice(diag.sqlstate, diag.message_primary, diag.message_detail))

    def rows(self, function: str, *args: Any) -> list[tuple[Any, ...]]:
        placeholders = ", ".join(["%s"] * len(args))
        with as_role(self.db, self.role):
            cur = self.db.execute(f"select * from api.{function}({placeholders})".encode(), args)
            return cur.fetchall() if cur.description else []

    def named(self, function: str, **kwargs: Any) -> Any:
        """api.FUNCTION(name => value, ...): the single value it returns."""
        arguments = ", ".join(f"{name} => %({name})s" for name in kwargs)
        with as_role(self.db, self.role):
            row = self.db.execute(f"select api.{function}({arguments})".encode(), kwargs).fetchone()
        assert row is not None
        return row[0]

    def search(self, **kwargs: Any) -> list[dict[str, Any]]:
        """api.search with named arguments; rows as dicts."""
        arguments = ", ".join(f"{name} => %({name})s" for name in kwargs)
        with as_role(self.db, self.role), self.db.cursor(row_factory=dict_row) as cur:
            return cur.execute(f"select * from api.search({arguments})".encode(), kwargs).fetchall()

    def card(self, listing_id: int, token: str | None = None) -> dict[str, Any]:
        """api.listing_card as a dict."""
        with as_role(self.db, self.role), self.db.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("select * from api.listing_card(%s, %s)", [listing_id, token]).fetchall()
        assert len(rows) == 1
        return rows[0]

    def one(self, function: str, *args: Any) -> Any:
        rows = self.rows(function, *args)
        assert len(rows) == 1, f"api.{function} returned {len(rows)} rows"
        return rows[0][0] if len(rows[0]) == 1 else rows[0]

    def fails(self, sqlstate: str, function: str, *args: Any) -> psycopg.Error:
        """Assert that api.FUNCTION(*ARGS) raises SQLSTATE; returns the error for more checks."""
        with pytest.raises(psycopg.Error) as info:
            self.rows(function, *args)
        assert info.value.sqlstate == sqlstate, f"{info.value.sqlstate}: {info.value.diag.message_primary}"
        return info.value

    def warns(self, sqlstate: str, function: str, *args: Any) -> Notice:
        """Assert that api.FUNCTION returns no row and warns with SQLSTATE (a recorded failure)."""
        self.notices.clear()
        assert self.rows(function, *args) == []
        assert [n.sqlstate for n in self.notices] == [sqlstate]
        assert self.db.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        return self.notices[0]

    def close(self) -> None:
        self.db.remove_notice_handler(self._on_notice)


@pytest.fixture
def api(db: Conn) -> Iterator[Api]:
    a = Api(db)
    try:
        yield a
    finally:
        a.close()


@pytest.fixture
def worker(db: Conn) -> Iterator[Api]:
    """The api as a delivery worker (role bazaar_worker) calls it."""
    a = Api(db, "bazaar_worker")
    try:
        yield a
    finally:
        a.close()


def sent_code(db: Conn, user_id: int) -> str:
    """The sign-in code the outbox holds for the user's Telegram chat (what the bot would send)."""
    row = db.execute(
        "select payload ->> 'code' from core.notifications "
        "where user_id = %s and kind = 'sign_in_code' and channel = 'telegram' order by id desc limit 1",
        [user_id],
    ).fetchone()
    assert row is not None, "no sign-in code was queued"
    return str(row[0])


def match_saved_searches(db: Conn) -> dict[str, int]:
    """Run the saved-search matching that pg_cron runs every minute (ops.match_saved_searches)."""
    row = db.execute("select ops.match_saved_searches()").fetchone()
    assert row is not None
    return dict(row[0])


@dataclass
class User:
    id: int
    email: str
    phone: str
    token: str


def unique_phone() -> str:
    return f"+7916{next(_serial):07d}"


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(api: Api, db: Conn) -> MakeUser:
    """Register and sign in a user through the api; ROLE sets the platform role directly."""

    def make(name: str = "Test User", role: str = "user") -> User:
        n = next(_serial)
        email, phone = f"user{n}@example.com", unique_phone()
        user_id = api.one("register", name, PASSWORD, email, phone)
        if role != "user":
            db.execute("update core.users set role = %s where id = %s", [role, user_id])
        token = api.one("login", email, PASSWORD)[0]
        return User(user_id, email, phone, token)

    return make


@pytest.fixture
def user(make_user: MakeUser) -> User:
    return make_user("Ivan Petrov")


@pytest.fixture
def admin(make_user: MakeUser) -> User:
    return make_user("Admin", role="admin")


@pytest.fixture
def moderator(make_user: MakeUser) -> User:
    return make_user("Moderator", role="moderator")


# -- listings ------------------------------------------------------------------------------------


@pytest.fixture
def category(db: Conn) -> dict[str, int]:
    """Category ids by slug."""
    return dict(db.execute("select slug, id from core.categories").fetchall())


@pytest.fixture
def model(db: Conn) -> Callable[[str, str], int]:
    """The id of a vehicle model: model('Toyota', 'Camry')."""

    def lookup(make: str, name: str) -> int:
        row = db.execute(
            "select m.id from core.vehicle_models as m join core.vehicle_makes as mk on mk.id = m.make_id "
            "where mk.name = %s and m.name = %s",
            [make, name],
        ).fetchone()
        assert row is not None, f"{make} {name} is not in the catalog"
        return int(row[0])

    return lookup


PART_ATTRIBUTES = {"part_number": "0 986 494 294", "condition": "new"}
CAR_ATTRIBUTES = {
    "year": 2018,
    "mileage_km": 64000,
    "body": "sedan",
    "engine": "2.5 petrol",
    "transmission": "automatic",
}
SERVICE_ATTRIBUTES = {
    "lead_time_days": 7,
    "materials": "steel, aluminium",
    "capabilities": "brackets, flanges",
}


@dataclass
class Listings:
    api: Api
    category: dict[str, int]
    model: Callable[[str, str], int]

    def create(self, seller: User, kind: str = "part", **fields: Any) -> int:
        defaults: dict[str, Any] = {
            "part": {"p_category_id": self.category["brake-pads"], "p_attributes": PART_ATTRIBUTES},
            "car": {
                "p_category_id": self.category["passenger-cars"],
                "p_attributes": CAR_ATTRIBUTES,
                "p_model_id": self.model("Toyota", "Camry"),
            },
            "service": {"p_category_id": self.category["machining"], "p_attributes": SERVICE_ATTRIBUTES},
        }[kind]
        args: dict[str, Any] = {
            "p_token": seller.token,
            "p_kind": kind,
            "p_title": f"Test {kind}",
            "p_price_amount": 150000,
            "p_region": "Москва",
            "p_city": "Москва",
            **defaults,
            **fields,
        }
        for key in ("p_attributes",):
            if isinstance(args.get(key), dict):
                args[key] = Jsonb(args[key])
        return int(self.api.named("create_listing", **args))

    def publish(self, seller: User, moderator: User, listing_id: int) -> int:
        self.api.one("submit_listing", seller.token, listing_id)
        self.api.one("approve_listing", moderator.token, listing_id)
        return listing_id


@pytest.fixture
def listings(api: Api, category: dict[str, int], model: Callable[[str, str], int]) -> Listings:
    return Listings(api, category, model)
