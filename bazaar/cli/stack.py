"""`bazaar up | down | status | dsn`: the local stack."""

from __future__ import annotations

import click

from bazaar import config
from bazaar.cli import Settings, cli, json_option, pass_settings, progress
from bazaar.output import print_object, print_output
from bazaar.stack import LocalStack


@cli.command()
@json_option
@pass_settings
def up(settings: Settings) -> None:
    """Start the local stack (creating it the first time), migrate it, print how to connect."""
    stack = LocalStack.from_env()
    applied = stack.up(config.sql_dir(), progress)
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
    click.echo(f"  scripts applied now: {len(applied)} (`bazaar db status` lists them)")
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
