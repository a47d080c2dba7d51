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

    def __init__(self, db: Conn) -> None:
        self.db = db
        self.notices: list[Notice] = []
        db.add_notice_handler(self._on_notice)

    def _on_notice(self, diag: Diagnostic) -> None:
        self.notices.append(Notice(diag.sqlstate, diag.message_primary, diag.message_detail))

    def rows(self, function: str, *args: Any) -> list[tuple[Any, ...]]:
        placeholders = ", ".join(["%s"] * len(args))
        with as_role(self.db, "bazaar_app"):
            cur = self.db.execute(f"select * from api.{function}({placeholders})".encode(), args)
            return cur.fetchall() if cur.description else []

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
