"""The CLI shell: exit codes, one-line errors, JSON output. In-process through click's runner,
plus the installed entry point once, to prove no traceback reaches a person."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bazaar import __version__
from bazaar.cli import cli
from bazaar.db import loopback_dsn
from bazaar.errors import exit_code_for
from tests.harness import SQL_DIR, free_port


def unreachable_dsn() -> tuple[str, int]:
    port = free_port()
    return loopback_dsn(port, "nobody", "bazaar", connect_timeout=3), port


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("BAZAAR_SQL_DIR", str(SQL_DIR))
    return CliRunner()


def test_version_and_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "status", "dsn", "db"):
        assert command in result.output


def test_unreachable_database_exits_7_with_one_line(runner: CliRunner) -> None:
    dsn, port = unreachable_dsn()
    result = runner.invoke(cli, ["--dsn", dsn, "db", "status"])
    assert result.exit_code == 7
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot connect to 127.0.0.1:{port}: ")
    assert isinstance(result.exception, SystemExit)


def test_unreachable_database_in_json_carries_sqlstate(runner: CliRunner) -> None:
    dsn, _ = unreachable_dsn()
    result = runner.invoke(cli, ["--json", "--dsn", dsn, "db", "migrate"])
    assert result.exit_code == 7
    payload = json.loads(result.stdout)
    assert payload["sqlstate"].startswith("08") and payload["exit_code"] == 7


def test_invalid_dsn_is_a_one_line_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--dsn", "host=127.0.0.1 port=", "db", "status"])
    assert result.exit_code == 7
    assert len(result.stderr.splitlines()) == 1


def test_db_status_json_parses(runner: CliRunner, bazaar_dsn: str) -> None:
    result = runner.invoke(cli, ["--dsn", bazaar_dsn, "db", "status", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {"kind": "versioned", "script": "V0001__foundation.sql", "state": "applied"}.items() <= rows[
        0
    ].items()


def test_db_status_table_has_a_header_and_a_row_per_script(runner: CliRunner, bazaar_dsn: str) -> None:
    result = runner.invoke(cli, ["--dsn", bazaar_dsn, "db", "status"])
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["KIND", "SCRIPT", "STATE", "APPLIED_AT"]
    assert any("V0001__foundation.sql" in r and "applied" in r for r in rows)


def test_db_migrate_and_verify_on_a_migrated_database(runner: CliRunner, bazaar_dsn: str) -> None:
    result = runner.invoke(cli, ["--dsn", bazaar_dsn, "db", "migrate", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    result = runner.invoke(cli, ["--dsn", bazaar_dsn, "db", "verify"])
    assert result.exit_code == 0 and result.stdout.startswith("ok")


@pytest.mark.parametrize(
    ("sqlstate", "code"),
    [
        ("22023", 3),
        ("22P02", 3),
        ("23514", 3),
        ("P0002", 4),
        ("42501", 5),
        ("28000", 5),
        ("55000", 6),
        ("23505", 6),
        ("40001", 6),
        ("08006", 7),
        ("42601", 1),
        (None, 1),
    ],
)
def test_sqlstate_to_exit_code_follows_design(sqlstate: str | None, code: int) -> None:
    assert exit_code_for(sqlstate) == code


def test_installed_entry_point_prints_no_traceback() -> None:
    dsn, _ = unreachable_dsn()
    result = subprocess.run(
        [sys.executable, "-m", "bazaar", "--dsn", dsn, "db", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 7
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot connect to 127.0.0.1:")


def test_log_format_json_gives_json_lines_with_the_request_id_and_no_argument(runner: CliRunner) -> None:
    dsn, _port = unreachable_dsn()
    env = {"BAZAAR_REQUEST_ID": "cli-test-0001", "BAZAAR_LOG_FORMAT": "json"}
    result = runner.invoke(cli, ["--dsn", dsn, "db", "status"], env=env, prog_name="bazaar")
    assert result.exit_code == 7
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["level"], line["request_id"]) for line in lines] == [("error", "cli-test-0001")] * 2
    assert lines[0]["msg"].startswith("cannot connect to") and lines[0]["exit_code"] == 7
    assert lines[1] == lines[1] | {"msg": "command finished", "command": "bazaar db status", "exit_code": 7}
    assert "nobody" not in lines[1]["command"]  # the command's names, never its arguments
    # text for people by default: the one `error:` line
    result = runner.invoke(cli, ["--dsn", dsn, "db", "status"], env={"BAZAAR_REQUEST_ID": "cli-test-0001"})
    assert result.stderr.splitlines()[0].startswith("error: cannot connect")


@pytest.mark.parametrize("request_id", ["short", "has spaces in it", "x" * 41, "semi;colon-1234"])
def test_a_request_id_the_database_would_refuse_is_a_bad_argument(runner: CliRunner, request_id: str) -> None:
    dsn, _port = unreachable_dsn()
    result = runner.invoke(cli, ["--dsn", dsn, "db", "status"], env={"BAZAAR_REQUEST_ID": request_id})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: BAZAAR_REQUEST_ID must be 8 to 40")
