"""The `bazaar` command line: thin wrappers around the stack, the migrator and SQL functions.

Exit codes (DESIGN.md → Errors): 0 ok; 1 failure or findings (`db verify`); 2 usage;
3 bad argument; 4 not found; 5 not allowed; 6 wrong state or conflict; 7 database unreachable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import click
import psycopg

from bazaar import __version__, config, migrate
from bazaar.db import connect
from bazaar.errors import BazaarError
from bazaar.output import print_object, print_output
from bazaar.pgnode import ServerError
from bazaar.stack import LocalStack

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    dsn: str | None = None
    json: bool = False

    def app_dsn(self) -> str:
        return self.dsn or os.environ.get("BAZAAR_DSN") or LocalStack.from_env().dsn()

    def admin_dsn(self) -> str:
        return self.dsn or os.environ.get("BAZAAR_ADMIN_DSN") or LocalStack.from_env().admin_dsn()


class BazaarGroup(click.Group):
    """Turns expected failures into one `error:` line and DESIGN.md's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except psycopg.Error as exc:
            error = BazaarError.from_psycopg(exc)
        except ServerError as exc:
            error = BazaarError(str(exc))
        except BazaarError as exc:
            error = exc
        if isinstance(ctx.obj, Settings) and ctx.obj.json:
            error.show_json()
        raise error


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Settings).json = True


def json_option(f: F) -> F:
    """`--json` on a command, the same as the global flag."""
    return click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print JSON instead of a table.",
    )(f)


pass_settings = click.make_pass_decorator(Settings, ensure=True)


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.group(cls=BazaarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bazaar")
@click.option(
    "--dsn",
    metavar="DSN",
    help="Connect here instead of BAZAAR_DSN / BAZAAR_ADMIN_DSN or the local stack.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables (errors too).")
@click.pass_context
def cli(ctx: click.Context, dsn: str | None, as_json: bool) -> None:
    """bazaar: the marketplace database platform.

    Application DSN: --dsn, else BAZAAR_DSN, else the local stack (`bazaar dsn`).
    Admin DSN (migrations, ops): --dsn, else BAZAAR_ADMIN_DSN, else the local stack.
    """
    settings = ctx.ensure_object(Settings)
    settings.dsn = dsn
    settings.json = settings.json or as_json


# -- local stack -----------------------------------------------------------------------------


@cli.command()
@json_option
@pass_settings
def up(settings: Settings) -> None:
    """Start the local stack (creating it the first time), migrate it, print how to connect."""
    stack = LocalStack.from_env()
    applied = stack.up(config.sql_dir(), _progress)
    info = {
        "state": "up",
        "home": str(stack.home),
        "postgres": f"127.0.0.1:{stack.ports.postgres(1)}",
        "applied": len(applied),
        "dsn": stack.dsn(),
        "admin_dsn": stack.admin_dsn(),
    }
    if settings.json:
        print_object(info, True)
        return
    click.echo(f"bazaar is up: PostgreSQL 15 on {info['postgres']}, state in {stack.home}")
    click.echo(f"  migrations applied now: {len(applied)}")
    click.echo(f'  application:  psql "{stack.dsn()}"')
    click.echo(f'  admin:        psql "{stack.admin_dsn()}"')
    click.echo("  (the same strings: `bazaar dsn` and `bazaar dsn --admin`; stop with `make down`)")


@cli.command()
@json_option
@pass_settings
def down(settings: Settings) -> None:
    """Stop the local stack. Its state stays in BAZAAR_HOME for the next `up`."""
    stopped = LocalStack.from_env().down()
    if settings.json:
        print_object({"state": "down", "was_running": stopped}, True)
    else:
        click.echo("bazaar is down" if stopped else "bazaar was not running")


@cli.command()
@json_option
@pass_settings
def status(settings: Settings) -> None:
    """Show the local stack's processes."""
    rows = LocalStack.from_env().processes()
    print_output(["name", "state", "pid", "listen", "log"], rows, settings.json)


@cli.command()
@click.option("--admin", is_flag=True, help="The admin DSN (migrations, ops) instead of the application's.")
@pass_settings
def dsn(settings: Settings, admin: bool) -> None:
    """Print a DSN for psql or a driver: `psql "$(bazaar dsn)"`."""
    click.echo(settings.admin_dsn() if admin else settings.app_dsn())


# -- database --------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Migrate the database and check it against the repository (uses the admin DSN)."""


@db.command("migrate")
@click.option(
    "--reapply",
    is_flag=True,
    help="Re-create every function and view from its file even if none changed (repairs hand edits).",
)
@json_option
@pass_settings
def db_migrate(settings: Settings, reapply: bool) -> None:
    """Apply pending migrations, then changed repeatable functions and views."""
    with connect(settings.admin_dsn(), autocommit=True) as conn:
        applied = migrate.migrate(conn, config.sql_dir(), _progress, reapply=reapply)
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


def main() -> None:
    cli(prog_name="bazaar")
