"""`bazaar generate`: fill the marketplace with realistic, deterministic data (generator/)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import click

from bazaar import api
from bazaar.cli import Settings, cli, json_option, pass_settings, progress
from bazaar.db import connect
from bazaar.output import print_object, print_output
from generator.load import filled_tables, load, marketplace_tables
from generator.sizes import Sizes


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int:
    if value is None:
        return int(time.time())
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date and time (2026-11-01T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp())
    if seconds > time.time() + 60:
        raise click.BadParameter("the history must end now or in the past, not in the future")
    if seconds < time.time() - 3 * 366 * 86_400:
        raise click.BadParameter(
            "the history must end within the last three years (partitions are made for it)"
        )
    return seconds


def _password(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    # the rule api.register applies: 8 characters to 72 bytes (bcrypt's limit)
    if value is not None and not (len(value) >= 8 and len(value.encode()) <= 72):
        raise click.BadParameter("a password is 8 characters to 72 bytes long")
    return value


@cli.command()
@click.option(
    "--scale",
    type=click.FloatRange(min=0.001, max=100),
    default=1.0,
    show_default=True,
    help="Size: 1 = 100k users, 5k shops, 1M listings, 10M contact clicks, 2M chat messages, 300k orders.",
)
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True, help="Random seed.")
@click.option(
    "--as-of",
    "as_of",
    metavar="TIME",
    callback=_as_of,
    help="When the history ends (ISO, UTC unless given; default now). Same seed, scale and "
    "--as-of give byte-identical data.",
)
@click.option(
    "--months",
    type=click.IntRange(1, 36),
    default=12,
    show_default=True,
    help="How far back the history goes.",
)
@click.option("--truncate", is_flag=True, help="Replace whatever the marketplace holds (not the catalog).")
@click.option("--if-empty", "if_empty", is_flag=True, help="Do nothing, successfully, when it holds data.")
@click.option("--check", is_flag=True, help="Load nothing: run the integrity checks on the data there is.")
@click.option(
    "--password",
    envvar="BAZAAR_GENERATE_PASSWORD",
    metavar="TEXT",
    callback=_password,
    help="Give every generated user this password (or BAZAAR_GENERATE_PASSWORD); by default none "
    "can sign in with a password.",
)
@json_option
@pass_settings
def generate(
    settings: Settings,
    scale: float,
    seed: int,
    as_of: int,
    months: int,
    truncate: bool,
    if_empty: bool,
    check: bool,
    password: str | None,
) -> None:
    """Generate a realistic marketplace and load it (COPY) through the admin DSN, then ANALYZE.

    Everything but the shipped catalog and settings: people, shops, listings with photos, prices,
    tags and statuses, orders in every state, deals, reviews, chats, contact clicks over the
    past months, the notification outbox. Refuses a marketplace that holds data unless
    --truncate. Loads in one transaction: a failure leaves the database as it was.
    """
    dsn = settings.admin_dsn()
    if check:
        _check(settings, dsn)
        return
    if if_empty:
        with connect(dsn) as conn:
            filled = filled_tables(conn, marketplace_tables(conn))
        if filled:
            if not settings.json:
                click.echo("the marketplace already holds data: nothing generated")
            else:
                print_object({"generated": False, "reason": "not empty"}, True)
            return
    show = sys.stderr.isatty() and not settings.json
    summary = load(
        dsn,
        scale=scale,
        seed=seed,
        as_of=as_of,
        months=months,
        password=password,
        truncate=truncate,
        progress=show,
        report=progress if not settings.json else lambda _message: None,
    )
    result = summary.as_dict()
    if settings.json:
        print_object({"generated": True, "sizes": Sizes.at(scale).as_dict(), **result}, True)
        return
    print_output(["step", "rows", "seconds", "rows_per_s", "index_seconds"], result["steps"], False)
    click.echo(
        f"generated {result['rows']:,} rows in {result['seconds']} s ({result['rows_per_s']:,} rows/s), "
        f"scale {scale}, seed {seed}, as of {result['as_of']}"
    )


def _check(settings: Settings, dsn: str) -> None:
    """The integrity rules (ops.integrity_report), each with its violations and example ids."""
    with connect(dsn, autocommit=True) as conn:
        report = api.call(conn, "ops", "integrity_report")
    rows = [
        {
            "check": r["rule"],
            "violations": r["violations"],
            "examples": r["sample_ids"],
            "rule": r["description"],
        }
        for r in report
    ]
    bad = [r for r in rows if r["violations"]]
    print_output(["check", "violations", "examples", "rule"], rows, settings.json)
    if not settings.json and not bad:
        click.echo(f"ok: {len(rows)} checks, no violations")
    if bad:
        if not settings.json:
            click.echo(f"error: {len(bad)} of {len(rows)} checks found violations", err=True)
        sys.exit(1)
