"""`bazaar up | status | dsn | down` for real: a stack of its own (own BAZAAR_HOME, own ports)
with password authentication, driven through the installed CLI, checked with psql."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bazaar.config import POSTGRES_BASE_PORT
from bazaar.pgnode import free_port
from tests.harness import SQL_DIR


class Stack:
    def __init__(self, home: Path, offset: int) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "BAZAAR_HOME": str(home),
            "BAZAAR_PORT_OFFSET": str(offset),
            "BAZAAR_SQL_DIR": str(SQL_DIR),
        }
        for name in ("BAZAAR_DSN", "BAZAAR_ADMIN_DSN"):
            self.env.pop(name, None)

    def bazaar(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bazaar", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def psql(self, dsn: str, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["psql", "--no-psqlrc", "-X", "-At", dsn, "-c", command],
            env={k: v for k, v in self.env.items() if not k.startswith("PG")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    home = Path(tempfile.mkdtemp(prefix="bazaar-stack-"))
    home.chmod(0o755)
    s = Stack(home / "var", free_port() - POSTGRES_BASE_PORT)
    try:
        yield s
    finally:
        s.bazaar("down")
        shutil.rmtree(home, ignore_errors=True)


def test_up_migrates_and_psql_connects_with_the_printed_dsn(stack: Stack) -> None:
    result = stack.bazaar("up")
    assert result.returncode == 0, result.stderr
    admin_dsn = stack.bazaar("dsn", "--admin").stdout.strip()
    assert f'psql "{admin_dsn}"' in result.stdout
    schemas = stack.psql(admin_dsn, r"\dn")
    assert schemas.returncode == 0, schemas.stderr
    for schema in ("core", "api", "analytics", "ops"):
        assert f"{schema}|bazaar_owner" in schemas.stdout


def test_secrets_stay_out_of_dsns_and_off_limits(stack: Stack) -> None:
    passwords = [line.rsplit(":", 1)[1] for line in (stack.home / "pgpass").read_text().splitlines()[1:]]
    assert len(passwords) == 5  # postgres and the four login roles
    assert oct((stack.home / "pgpass").stat().st_mode & 0o777) == "0o600"
    for args in (("dsn",), ("dsn", "--admin"), ("up",)):
        out = stack.bazaar(*args).stdout
        assert not any(p in out for p in passwords)


def test_no_trust_authentication_and_wrong_password_is_refused(stack: Stack) -> None:
    admin_dsn = stack.bazaar("dsn", "--admin").stdout.strip()
    rules = stack.psql(admin_dsn, "select count(*) from pg_hba_file_rules where auth_method = 'trust'")
    assert rules.stdout.strip() == "0"
    wrong = admin_dsn.split(" passfile=")[0] + " password=wrong"
    refused = stack.psql(wrong, "select 1")
    assert refused.returncode != 0
    assert "password authentication failed" in refused.stderr


def test_application_dsn_reaches_api_only(stack: Stack) -> None:
    app_dsn = stack.bazaar("dsn").stdout.strip()
    assert "user=bazaar_app" in app_dsn
    who = stack.psql(app_dsn, "select current_user")
    assert who.stdout.strip() == "bazaar_app", who.stderr
    denied = stack.psql(app_dsn, "select count(*) from ops.schema_migrations")
    assert denied.returncode != 0 and "permission denied" in denied.stderr


def test_up_again_is_idempotent_and_status_reports_the_node(stack: Stack) -> None:
    again = stack.bazaar("--json", "up")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["applied"] == 0
    status = json.loads(stack.bazaar("status", "--json").stdout)
    assert [(p["name"], p["state"]) for p in status] == [("postgresql-node1", "running")]


def test_down_stops_and_up_restarts_with_the_same_data(stack: Stack) -> None:
    down = stack.bazaar("down")
    assert down.returncode == 0 and "down" in down.stdout
    status = json.loads(stack.bazaar("status", "--json").stdout)
    assert status[0]["state"] == "stopped"
    unreachable = stack.bazaar("db", "status")
    assert unreachable.returncode == 7
    assert stack.bazaar("down").stdout.strip() == "bazaar was not running"
    up = stack.bazaar("--json", "up")
    assert up.returncode == 0 and json.loads(up.stdout)["applied"] == 0
