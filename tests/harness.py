"""The test harness: a throwaway PostgreSQL 15 server on a free loopback port.

The server runs as the postgres OS user (when the tests run as root) from a directory made for
it under /tmp, since pytest's tmp_path (/tmp/pytest-of-root, mode 0700) is out of its reach.
Trust authentication is acceptable here, and only here: the server listens on 127.0.0.1,
lives for one test session and holds nothing but test data.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bazaar import config
from bazaar.db import create_database, loopback_dsn
from bazaar.errors import BazaarError
from bazaar.stack.host import SERVER_USER, as_server_user, bindir, make_server_dir, pg_ctl, write_server_file
from bazaar.stack.processes import postmaster_pid, run

REPO = Path(__file__).resolve().parent.parent
SQL_DIR = REPO / "sql"

# A throwaway server: durability buys nothing, speed does.
TEST_SETTINGS: dict[str, str | int] = {
    # pg_cron schedules the maintenance jobs in the session's database (V0006)
    "shared_preload_libraries": "pg_cron,pg_stat_statements,auto_explain",
    "track_functions": "all",
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


@dataclass(frozen=True)
class PgNode:
    """A PostgreSQL data directory with trust authentication, and the server that runs on it."""

    datadir: Path
    port: int
    log_file: Path
    host: str = "127.0.0.1"

    def initdb(self, settings: Mapping[str, str | int]) -> None:
        """Create the cluster (trust authentication: the throwaway harness only) with SETTINGS."""
        make_server_dir(self.datadir.parent, 0o711)
        make_server_dir(self.log_file.parent, 0o755)
        argv = [
            str(bindir() / "initdb"),
            "--pgdata",
            str(self.datadir),
            "--username",
            SERVER_USER,
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--auth",
            "trust",
            "--data-checksums",
        ]
        run(as_server_user(argv), "initdb")
        self.configure(settings)

    def configure(self, settings: Mapping[str, str | int]) -> None:
        """Write our settings to bazaar.conf, included from postgresql.conf (once)."""
        base: dict[str, str | int] = {
            "listen_addresses": self.host,
            "port": self.port,
            # TCP only: socket paths under a deep checkout exceed the 107-byte limit.
            "unix_socket_directories": "",
            "password_encryption": "scram-sha-256",
            "log_line_prefix": "%m [%p] %q%u@%d ",
        }
        base.update(settings)
        lines = [f"{key} = {_conf_value(value)}" for key, value in base.items()]
        conf = self.datadir / "bazaar.conf"
        write_server_file(conf, "# written by bazaar; edits are overwritten\n" + "\n".join(lines) + "\n")
        main = self.datadir / "postgresql.conf"
        if "include 'bazaar.conf'" not in main.read_text():
            with main.open("a") as f:
                f.write("\ninclude 'bazaar.conf'\n")

    def running(self) -> bool:
        return postmaster_pid(self.datadir) is not None

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        if config.port_in_use(self.port, self.host):
            raise BazaarError(f"cannot start PostgreSQL on {self.host}:{self.port}: the port is in use")
        try:
            run(pg_ctl(self.datadir, "start", log=self.log_file, timeout=timeout), "pg_ctl start")
        except BazaarError as exc:
            raise BazaarError(f"{exc}\n--- {self.log_file} ---\n{self.log_tail()}") from exc
        self.wait_ready(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop the server at once (immediate mode): its data is thrown away next."""
        if not self.running():
            return
        run(pg_ctl(self.datadir, "stop", mode="immediate", timeout=timeout), "pg_ctl stop")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll pg_isready until the server accepts connections, or fail at the deadline."""
        deadline = time.monotonic() + timeout
        argv = [str(bindir() / "pg_isready"), "--host", self.host, "--port", str(self.port), "--quiet"]
        while run(argv, "pg_isready", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise BazaarError(
                    f"PostgreSQL on {self.host}:{self.port} did not accept connections "
                    f"within {timeout:.0f} s\n"
                    f"--- {self.log_file} ---\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _conf_value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


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
            create_database(conn, name)
        try:
            yield self.dsn(name)
        finally:
            with self.admin() as conn:
                conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@contextmanager
def throwaway_server(settings: Mapping[str, str | int] | None = None) -> Iterator[ServerUnderTest]:
    """A PostgreSQL server of its own in a temporary directory (TEST_SETTINGS, overridden by
    SETTINGS), removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="bazaar-test-"))
    base.chmod(0o711)
    node = PgNode(datadir=base / "pg" / "data", port=free_port(), log_file=base / "log" / "postgres.log")
    try:
        node.initdb({**TEST_SETTINGS, **(settings or {})})
        node.start()
        yield ServerUnderTest(node, base)
    finally:
        node.stop()
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
