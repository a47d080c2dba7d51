"""The `bazaar` command line: thin wrappers around the stack, the migrator and SQL functions.

The root group, the shared options and the error handling live here; each area's commands
live in a module of this package (``stack``, ``db``, ...) that registers them on ``cli``.

Exit codes (docs/conventions.md → Errors): 0 ok; 1 failure or findings (`db verify`); 2 usage;
3 bad argument; 4 not found; 5 not allowed; 6 wrong state or conflict; 7 database unreachable.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import psycopg

from bazaar import __version__, api, jsonlog, request
from bazaar.db import connect
from bazaar.errors import BazaarError
from bazaar.output import print_object, print_output
from bazaar.stack.local import LocalStack

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    dsn: str | None = None
    json: bool = False

    def app_dsn(self) -> str:
        return self.dsn or os.environ.get("BAZAAR_DSN") or LocalStack.from_env().dsn()

    def admin_dsn(self) -> str:
        return self.dsn or os.environ.get("BAZAAR_ADMIN_DSN") or LocalStack.from_env().admin_dsn()

    def worker_dsn(self) -> str:
        """Delivery workers (role bazaar_worker): the outbox functions."""
        return self.dsn or os.environ.get("BAZAAR_WORKER_DSN") or LocalStack.from_env().dsn("bazaar_worker")


class _Logged(click.ClickException):
    """A failure already written as a JSON log line: only its exit code is left to give."""

    def __init__(self, exit_code: int) -> None:
        super().__init__("")
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: Any = None) -> None:
        pass


class BazaarGroup(click.Group):
    """Turns expected failures into one `error:` line and the documented exit code; with
    `--log-format json`, into one JSON log line instead, and every command ends with one."""

    def invoke(self, ctx: click.Context) -> Any:
        global _LOG_JSON
        _LOG_JSON = ctx.params.get("log_format") == "json"
        started = time.monotonic()
        code = 0
        try:
            return self._invoke(ctx)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
            raise
        except click.exceptions.Abort:  # ^C, or end of input at a prompt: click exits 1
            code = 1
            raise
        except click.ClickException as exc:
            code = exc.exit_code
            if not _LOG_JSON:
                raise
            fields = exc.as_dict() if isinstance(exc, BazaarError) else {"error": exc.format_message()}
            _log("error", fields.pop("error"), **{k: v for k, v in fields.items() if v is not None})
            raise _Logged(code) from None
        finally:
            if _LOG_JSON:
                seconds = round(time.monotonic() - started, 3)
                level = "info" if code == 0 else "error"
                _log(
                    level,
                    "command finished",
                    command=self._command_path(ctx),  # names only
                    exit_code=code,
                    seconds=seconds,
                )

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except psycopg.Error as exc:
            error = BazaarError.from_psycopg(exc)
        except BazaarError as exc:
            error = exc
        if isinstance(ctx.obj, Settings) and ctx.obj.json:
            error.show_json()
        raise error

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        after_command = super().parse_args(ctx, list(args))
        # what follows the root's own options: the command's name, then its arguments (a group
        # stops parsing at its first argument, so these are the last tokens): _command_path
        ctx.meta["bazaar.args"] = args[len(args) - len(after_command) - 1 :] if args else []
        return after_command

    def _command_path(self, ctx: click.Context) -> str:
        """`bazaar moderation approve`: the names of the commands invoked, never a value (an
        argument that is not a command's name is skipped, whatever it holds)."""
        names = [ctx.command_path]
        command: click.Command = self
        for token in ctx.meta.get("bazaar.args", []):
            if not isinstance(command, click.Group):
                break
            if token in command.commands:
                names.append(token)
                command = command.commands[token]
        return " ".join(names)


_LOG_JSON = False  # --log-format json: stderr gets JSON log lines (bazaar/jsonlog.py)


def _log(level: str, message: str, **fields: Any) -> None:
    with contextlib.suppress(BazaarError):  # BAZAAR_REQUEST_ID refused: the error being logged
        fields["request_id"] = request.current()
    jsonlog.log(level, message, **fields)


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

# Ids are PostgreSQL bigints: a larger number is a usage error (exit 2), not a database error.
ID = click.IntRange(1, 2**63 - 1)


def token_option(f: F) -> F:
    """`--token`, or BAZAAR_TOKEN: the session of the person a command acts for."""
    return click.option(
        "--token",
        envvar="BAZAAR_TOKEN",
        required=True,
        metavar="TOKEN",
        help="Session token from `bazaar user login` (or BAZAAR_TOKEN).",
    )(f)


def call(
    settings: Settings, function: str, *args: Any, as_worker: bool = False, **named: Any
) -> list[dict[str, Any]]:
    """Rows of api.FUNCTION, on the application DSN (the worker's with AS_WORKER). Autocommit: a
    refused sign-in is recorded by the function and must be committed."""
    dsn = settings.worker_dsn() if as_worker else settings.app_dsn()
    with connect(dsn, autocommit=True) as conn:
        return api.call(conn, "api", function, *args, **named)


def one(
    settings: Settings, function: str, *args: Any, as_worker: bool = False, **named: Any
) -> dict[str, Any]:
    """The single row api.FUNCTION returns."""
    rows = call(settings, function, *args, as_worker=as_worker, **named)
    if len(rows) != 1:
        raise BazaarError(f"api.{function} returned {len(rows)} rows, expected one")
    return rows[0]


def print_page(settings: Settings, columns: list[str], rows: list[dict[str, Any]], extra: list[str]) -> None:
    """One page of a keyset list: COLUMNS for people (and, when the page has more after it, the
    option that fetches the next one, on stderr); with --json every column, EXTRA and next_cursor too."""
    print_output([*columns, *extra, "next_cursor"] if settings.json else columns, rows, settings.json)
    if not settings.json and rows and rows[-1].get("next_cursor"):
        click.echo(f"more: --cursor {rows[-1]['next_cursor']}", err=True)


def done(settings: Settings, message: str, **fields: Any) -> None:
    """Report a change: MESSAGE for people, the FIELDS as JSON."""
    if settings.json:
        print_object({"ok": True, **fields}, True)
    else:
        click.echo(message)


def progress(message: str) -> None:
    """Progress of long work, on stderr so stdout stays parseable (a JSON log line with
    `--log-format json`)."""
    if _LOG_JSON:
        _log("info", message)
    else:
        click.echo(message, err=True)


@click.group(cls=BazaarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bazaar")
@click.option(
    "--dsn",
    metavar="DSN",
    help="Connect here instead of BAZAAR_DSN / BAZAAR_ADMIN_DSN or the local stack.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables (errors too).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="BAZAAR_LOG_FORMAT",
    show_default=True,
    help="stderr as text for people, or as JSON lines with a level and the request id "
    "(BAZAAR_LOG_FORMAT). The request id: BAZAAR_REQUEST_ID, else a new one per command.",
)
@click.pass_context
def cli(ctx: click.Context, dsn: str | None, as_json: bool, log_format: str) -> None:
    """bazaar: the marketplace database platform.

    Application DSN: --dsn, else BAZAAR_DSN, else the local stack (`bazaar dsn`).
    Admin DSN (migrations, ops): --dsn, else BAZAAR_ADMIN_DSN, else the local stack.
    """
    settings = ctx.ensure_object(Settings)
    settings.dsn = dsn
    settings.json = settings.json or as_json


def main() -> None:
    cli(prog_name="bazaar")


# The command modules register their commands on `cli` when imported; they need it defined first.
from bazaar.cli import (  # noqa: E402, F401
    backup,
    cart,
    channels,
    cluster,
    db,
    generate,
    interactions,
    listings,
    more,
    people,
    stack,
    worker,
)
