"""Shared fixtures for CLI tests: the CLI run in-process as bazaar_app against a database of its
own, migrated from the repository, exactly as an application would connect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg.conninfo import make_conninfo

from bazaar import migrate
from bazaar.cli import cli
from tests.harness import SQL_DIR, ServerUnderTest

PASSWORD = "s3cret-enough"


class Cli:
    def __init__(self, app_dsn: str, admin_dsn: str) -> None:
        self.runner = CliRunner()
        self.env = {
            "BAZAAR_DSN": app_dsn,
            "BAZAAR_ADMIN_DSN": admin_dsn,
            "BAZAAR_WORKER_DSN": make_conninfo(admin_dsn, user="bazaar_worker"),
            "BAZAAR_TOKEN": "",
        }

    def __call__(self, *args: str, token: str | None = None, input: str | None = None) -> Result:
        env = {**self.env, "BAZAAR_TOKEN": token or ""}
        return self.runner.invoke(cli, list(args), env=env, input=input)

    def json(self, *args: str, token: str | None = None) -> Any:
        result = self("--json", *args, token=token)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def register(self, name: str, email: str) -> int:
        return int(
            self.json("user", "register", "--name", name, "--email", email, "--password", PASSWORD)["user_id"]
        )

    def login(self, identifier: str) -> str:
        return str(self.json("user", "login", identifier, "--password", PASSWORD)["token"])


@pytest.fixture(scope="module")
def run(server: ServerUnderTest) -> Iterator[Cli]:
    with server.scratch_database() as admin_dsn:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
            # harness only: let the application role log in (trust auth, loopback, throwaway server)
            conn.execute("alter role bazaar_app login")
            conn.execute("alter role bazaar_worker login")
            conn.execute("update core.settings set value = '4' where key = 'bcrypt_cost'")
        yield Cli(make_conninfo(admin_dsn, user="bazaar_app"), admin_dsn)


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]
