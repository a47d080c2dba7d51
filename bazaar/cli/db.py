"""`bazaar db migrate | status | verify`: the migration runner (docs/adr/0001-migrations.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

import click

from bazaar import config, migrate
from bazaar.cli import Settings, cli, json_option, pass_settings, progress
from bazaar.db import connect
from bazaar.output import print_output

F = TypeVar("F", bound=Callable[..., Any])


def _at_least_one(name: str, default: int, text: str) -> Callable[[F], F]:
    """An integer option of 1 or more, its default shown in --help."""
    return click.option(name, type=click.IntRange(min=1), default=default, show_default=True, help=text)


@cli.group()
def db() -> None:
    """Migrate the database and check it against the repository (uses the admin DSN)."""


@db.command("migrate")
@click.option(
    "--reapply",
    is_flag=True,
    help="Re-create every function and view from its file even if none changed (repairs hand edits).",
)
@_at_least_one(
    "--lock-timeout",
    migrate.LOCKS.timeout_ms,
    "Milliseconds a statement waits for a lock live traffic holds before its script is tried again.",
)
@_at_least_one(
    "--attempts",
    migrate.LOCKS.attempts,
    "Tries of a script that found a lock taken, before migrate gives up (exit 6).",
)
@json_option
@pass_settings
def db_migrate(settings: Settings, reapply: bool, lock_timeout: int, attempts: int) -> None:
    """Apply pending migrations, then changed repeatable functions and views.

    Safe under load: each statement waits at most --lock-timeout for a lock, and a script that
    gave up is rolled back and tried again (docs/conventions.md, "Migrations under load").
    """
    locks = migrate.Locks(timeout_ms=lock_timeout, attempts=attempts)
    with connect(settings.admin_dsn(), autocommit=True) as conn:
        applied = migrate.migrate(conn, config.sql_dir(), progress, reapply=reapply, locks=locks)
    if settings.json:
        print_output(["script"], [{"script": s} for s in applied], True)
    elif applied:
        click.echo(f"applied {len(applied)} script(s)")
    else:
        click.echo("nothing to do: the database is at the repository's version")


@db.command("status")
@json_option
@pass_settings
def db_status(settings: Settings) -> None:
    """List every script with its state: applied, pending, changed or missing file."""
    with connect(settings.admin_dsn(), autocommit=True) as conn:
        rows = migrate.status(conn, config.sql_dir())
    print_output(["kind", "script", "state", "applied_at"], [asdict(r) for r in rows], settings.json)


@db.command("verify")
@json_option
@pass_settings
def db_verify(settings: Settings) -> None:
    """Check the database against the repository; exit 1 and list what differs.

    Applied migrations must match their files, and every function and view must be exactly what
    the repository's files create (re-created in a rolled-back transaction and compared).
    """
    with connect(settings.admin_dsn(), autocommit=True) as conn:
        findings = migrate.verify(conn, config.sql_dir())
    if settings.json:
        print_output(["what", "name", "problem"], [asdict(f) for f in findings], True)
    elif findings:
        print_output(["what", "name", "problem"], [asdict(f) for f in findings], False)
    else:
        click.echo("ok: the database matches the repository")
    if findings:
        if not settings.json:
            click.echo(
                f"error: {len(findings)} difference(s) between the database and the repository", err=True
            )
        sys.exit(1)
