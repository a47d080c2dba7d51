"""`bazaar cluster …`: operator commands for the Patroni cluster of the local stack.

Thin wrappers: Patroni does the work (its REST API), these commands ask and then wait, with a
deadline, until the cluster and HAProxy's routing show the result. docs/runbooks/failover.md.
"""

from __future__ import annotations

import click

from bazaar.cli import Settings, cli, json_option, pass_settings
from bazaar.cli.stack import MEMBER_COLUMNS
from bazaar.errors import EXIT_WRONG_STATE, BazaarError
from bazaar.output import print_object, print_output
from bazaar.stack.cluster import Cluster
from bazaar.stack.layout import NODES
from bazaar.stack.local import LocalStack

node_argument = click.argument("node", type=click.Choice(NODES))


def _cluster() -> Cluster:
    stack = LocalStack.from_env()
    if not stack.server_link.exists():
        raise BazaarError("the local stack was never started", exit_code=EXIT_WRONG_STATE, hint="make up")
    cluster = stack.cluster()
    if not cluster.supervisor.running():
        raise BazaarError("the local stack is not running", exit_code=EXIT_WRONG_STATE, hint="make up")
    return cluster


@cli.group("cluster")
def cluster_group() -> None:
    """Inspect the Patroni cluster; switch over, fail over, restart, rebuild or crash a node."""


@cluster_group.command("status")
@json_option
@pass_settings
def status(settings: Settings) -> None:
    """Each member: role (leader, sync_standby, replica), state, timeline, lag in MB."""
    cluster = _cluster()
    members = cluster.patroni.members()
    if not members:
        raise BazaarError("no Patroni node answers", exit_code=EXIT_WRONG_STATE)
    print_output(MEMBER_COLUMNS, [m.as_row() for m in members], settings.json)


@cluster_group.command("switchover")
@click.option("--to", "to", type=click.Choice(NODES), help="The new leader (default: the sync standby).")
@click.option(
    "--no-pause",
    is_flag=True,
    help="Do not pause PgBouncer: its clients then see errors while the leader changes.",
)
@json_option
@pass_settings
def switchover(settings: Settings, to: str | None, no_pause: bool) -> None:
    """Planned change of leader that PgBouncer's clients only see as a short wait.

    PAUSE PgBouncer, Patroni switchover, wait until HAProxy's read-write port leads to the new
    leader, RESUME. With synchronous_mode, only the synchronous standby can be the target.
    """
    result = _cluster().switchover(to, pause_pgbouncer=not no_pause)
    print_object(result, settings.json)


@cluster_group.command("failover")
@click.option("--to", "to", type=click.Choice(NODES), help="The new leader (default: the sync standby).")
@json_option
@pass_settings
def failover(settings: Settings, to: str | None) -> None:
    """Promote a replica now, even when the leader is unhealthy (Patroni's manual failover)."""
    print_object(_cluster().failover(to), settings.json)


@cluster_group.command("restart")
@node_argument
@json_option
@pass_settings
def restart(settings: Settings, node: str) -> None:
    """Restart NODE's PostgreSQL through Patroni (e.g. after a parameter that needs it)."""
    print_object(_cluster().restart(node), settings.json)


@cluster_group.command("reinit")
@node_argument
@json_option
@pass_settings
def reinit(settings: Settings, node: str) -> None:
    """Throw away replica NODE's data directory and copy it again from the leader."""
    print_object(_cluster().reinit(node), settings.json)


@cluster_group.command("kill")
@node_argument
@click.option("--postgres-only", is_flag=True, help="Kill only PostgreSQL; Patroni stays and recovers it.")
@click.option(
    "--down-for",
    type=click.FloatRange(0, 3600),
    default=30.0,
    show_default=True,
    help="Seconds before supervisord may restart the crashed node's Patroni.",
)
@json_option
@pass_settings
def kill(settings: Settings, node: str, postgres_only: bool, down_for: float) -> None:
    """Crash NODE for a drill: SIGKILL its Patroni and PostgreSQL (or PostgreSQL only).

    The node comes back by itself after --down-for seconds and rejoins as a replica (pg_rewind).
    """
    print_object(_cluster().kill(node, postgres_only=postgres_only, down_for=down_for), settings.json)
