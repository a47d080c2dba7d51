"""Fixtures: one PostgreSQL server per session, the repository migrated into it once, and a
connection per test inside a transaction that is rolled back afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psutil
import psycopg
import pytest

from bazaar import migrate
from tests.harness import SQL_DIR, ServerUnderTest, throwaway_server


@pytest.fixture(scope="session")
def server() -> Iterator[ServerUnderTest]:
    with throwaway_server() as s:
        yield s


@pytest.fixture(scope="session")
def bazaar_dsn(server: ServerUnderTest) -> str:
    """The repository's schema, migrated once per session into database `bazaar_test`."""
    with server.admin() as conn:
        conn.execute("create database bazaar_test")
    dsn = server.dsn("bazaar_test")
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate.migrate(conn, SQL_DIR)
    return dsn


@pytest.fixture(scope="session")
def _session_conn(bazaar_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(bazaar_dsn) as conn:
        yield conn


@pytest.fixture
def db(_session_conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection in a transaction that is rolled back after the test."""
    conn = _session_conn
    conn.execute("select 'test transaction begins'")  # open it, so that nested blocks are savepoints
    try:
        yield conn
    finally:
        conn.rollback()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Nothing the suite started may outlive it. A forked child left behind (a generator producer
    that ignored SIGTERM once) made the interpreter wait for it at exit, and CI hang for 90 minutes
    after every test had passed: such a child is killed here and the run fails, naming it."""
    left = psutil.Process().children(recursive=True)
    if not left:
        return
    names = []
    for p in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            names.append(f"{p.pid} {' '.join(p.cmdline()[:4])}")
            p.kill()
    psutil.wait_procs(left, timeout=10)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    writer = session.config.get_terminal_writer()
    writer.line(f"FAILED: processes outlived the test suite: {', '.join(names)}", red=True)
