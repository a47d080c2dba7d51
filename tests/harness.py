"""The test harness: a throwaway PostgreSQL 15 server on a free loopback port.

The server runs as the postgres OS user (when the tests run as root) from a directory made for
it under /tmp, since pytest's tmp_path (/tmp/pytest-of-root, mode 0700) is out of its reach.
Trust authentication is acceptable here, and only here: the server listens on 127.0.0.1,
lives for one test session and holds nothing but test data.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bazaar import config
from bazaar.db import loopback_dsn
from bazaar.pgnode import PgNode

REPO = Path(__file__).resolve().parent.parent
SQL_DIR = REPO / "sql"

# A throwaway server: durability buys nothing, speed does.
TEST_SETTINGS: dict[str, str | int] = {
    # pg_cron schedules the maintenance jobs in the session's database (V0006)
    "shared_preload_libraries": "pg_cron",
    "cron.database_name": "bazaar_test",
    "cron.use_background_workers": "on",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": 60,
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


def free_port() -> int:
    """A loopback port nobody listens on, below the ephemeral range: node 1's port of a stack
    offset whose ports are all free (config.free_port_offset)."""
    return config.Ports(config.free_port_offset()).postgres(1)


@dataclass
class ServerUnderTest:
    node: PgNode
    base: Path

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return loopback_dsn(self.node.port, user, dbname)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(), autocommit=True)

    @contextmanager
    def scratch_database(self) -> Iterator[str]:
        """A new empty database for one test; its DSN, dropped afterwards."""
        name = f"scratch_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        try:
            yield self.dsn(name)
        finally:
            with self.admin() as conn:
                conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@contextmanager
def throwaway_server() -> Iterator[ServerUnderTest]:
    base = Path(tempfile.mkdtemp(prefix="bazaar-test-"))
    base.chmod(0o711)
    node = PgNode(datadir=base / "pg" / "data", port=free_port(), log_file=base / "log" / "postgres.log")
    try:
        node.initdb(auth="trust", settings=TEST_SETTINGS)
        node.start()
        yield ServerUnderTest(node, base)
    finally:
        node.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def as_role(conn: psycopg.Connection[Any], role: str) -> Iterator[None]:
    """Run the block as ROLE (SET LOCAL ROLE inside a savepoint), as an application would connect.

    An error inside rolls the savepoint back, and the role with it. The connection must already
    be in a transaction: psycopg would otherwise open one here and COMMIT it at the end.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        raise RuntimeError("as_role() needs an open transaction (use the `db` fixture)")
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
        yield
        conn.execute("reset role")
