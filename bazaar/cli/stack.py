"""`bazaar up | down | status | dsn`: the local stack (etcd, 3 Patroni nodes, HAProxy, PgBouncer)."""

from __future__ import annotations

import click

from bazaar import config
from bazaar.cli import Settings, cli, json_option, pass_settings, progress
from bazaar.errors import EXIT_WRONG_STATE
from bazaar.output import print_object, print_output
from bazaar.stack import health
from bazaar.stack.layout import NODES
from bazaar.stack.local import LocalStack

PROCESS_COLUMNS = ["name", "state", "pid", "uptime", "listen", "log"]
MEMBER_COLUMNS = ["member", "host", "role", "state", "timeline", "lag_mb"]


@cli.command()
@json_option
@pass_settings
def up(settings: Settings) -> None:
    """Start the local stack (creating it the first time), migrate it, print how to connect.

    etcd, three Patroni nodes (PostgreSQL 15, synchronous replication), HAProxy and PgBouncer,
    all under supervisord; migrations run through the leader.
    """
    stack = LocalStack.from_env()
    applied = stack.up(config.sql_dir(), progress)
    members = stack.cluster().patroni.members()
    info = {
        "state": "up",
        "home": str(stack.home),
        "leader": next((m.name for m in members if m.role == "leader"), None),
        "applied": len(applied),
        "dsn": stack.dsn(),
        "admin_dsn": stack.admin_dsn(),
        "read_only_dsn": stack.pooled_read_only_dsn(),
        "haproxy_stats": f"http://127.0.0.1:{stack.ports.stats}/",
        "prometheus": f"http://127.0.0.1:{stack.ports.prometheus}/",
        "alertmanager": f"http://127.0.0.1:{stack.ports.alertmanager}/",
        "mail_dir": str(stack.cluster().root.mail_dir),
    }
    if settings.json:
        print_object(info, True)
        return
    click.echo(f"bazaar is up: 3 Patroni nodes, leader {info['leader']}, state in {stack.home}")
    click.echo(f"  scripts applied now: {len(applied)} (`bazaar db status` lists them)")
    click.echo(f'  application (PgBouncer):  psql "{stack.dsn()}"')
    click.echo(f'  admin (read-write):       psql "{stack.admin_dsn()}"')
    click.echo(f'  read-only (the replicas): psql "{stack.pooled_read_only_dsn()}"')
    click.echo(f"  HAProxy stats:            {info['haproxy_stats']}")
    click.echo(f"  Prometheus (alerts):      {info['prometheus']}alerts")
    click.echo(f"  Alertmanager:             {info['alertmanager']}")
    click.echo(f"  e-mails sent (mail sink): {info['mail_dir']}")
    click.echo("  Grafana dashboards:       monitoring/grafana/ into your Grafana (README: Dashboards);")
    click.echo("                            the compose stack serves them at http://127.0.0.1:3000/")
    click.echo("  (`bazaar dsn [--admin | --read-only]`, `bazaar status`; stop with `make down`)")


@cli.command()
@json_option
@pass_settings
def down(settings: Settings) -> None:
    """Stop the local stack cleanly. Its state stays in BAZAAR_HOME for the next `up`."""
    stopped = LocalStack.from_env().down()
    if settings.json:
        print_object({"state": "down", "was_running": stopped}, True)
    else:
        click.echo("bazaar is down" if stopped else "bazaar was not running")


@cli.command()
@json_option
@pass_settings
def status(settings: Settings) -> None:
    """Show each process of the local stack and the cluster's members (role, lag, timeline), and
    whether all is well: exit 6 when a program is not running, there is no leader, a member is
    missing, down or over 64 MB behind, no synchronous standby, or WAL archiving fails."""
    stack = LocalStack.from_env()
    processes = stack.processes()
    members = stack.cluster().patroni.members() if stack.server_link.exists() else []
    found = health.problems(processes, members, len(NODES), stack.archiving())
    rows = [m.as_row() for m in members]
    if settings.json:
        print_object({"healthy": not found, "problems": found, "processes": processes, "cluster": rows}, True)
    else:
        print_output(PROCESS_COLUMNS, processes, False)
        click.echo("")
        if rows:
            print_output(MEMBER_COLUMNS, rows, False)
        else:
            click.echo("cluster: no Patroni node answers")
        click.echo("")
        click.echo("health: ok" if not found else f"health: {len(found)} problem(s)")
        for problem in found:
            click.echo(f"  - {problem}")
    if found:
        raise SystemExit(EXIT_WRONG_STATE)


@cli.command()
@click.option("--admin", is_flag=True, help="The admin DSN (read-write port, superuser) instead.")
@click.option(
    "--read-only",
    "read_only",
    is_flag=True,
    help="The replicas instead: through PgBouncer (bazaar_ro); with --admin, HAProxy's read-only port.",
)
@pass_settings
def dsn(settings: Settings, admin: bool, read_only: bool) -> None:
    """Print a DSN for psql or a driver: `psql "$(bazaar dsn)"`.

    Default: the application (bazaar_app) through PgBouncer. Clients of PgBouncer must not use
    server-side prepared statements (psycopg: prepare_threshold=None): it pools transactions.
    """
    if read_only:
        stack = LocalStack.from_env()
        click.echo(stack.read_only_dsn("postgres") if admin else stack.pooled_read_only_dsn())
        return
    click.echo(settings.admin_dsn() if admin else settings.app_dsn())
