"""`bazaar backup …`: pgBackRest backups of the local stack, their verification and restores.

Thin wrappers around bazaar/backup/operations.py; docs/runbooks/backup-and-restore.md says when
to use which. Restores never touch the live cluster: they go into a directory of their own and
start there on a port of their own (`restore`), then can be masked for staging (`stage`).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bazaar.backup import staging
from bazaar.backup.operations import Backups, Target
from bazaar.backup.pgbackrest import Progress
from bazaar.backup.whole_cluster import restore_cluster as restore_cluster_to
from bazaar.cli import Settings, cli, json_option, pass_settings, progress
from bazaar.errors import EXIT_BAD_ARGUMENT, EXIT_WRONG_STATE, BazaarError
from bazaar.output import print_object, print_output
from bazaar.stack.local import LocalStack

BACKUP_COLUMNS = [
    "repo",
    "label",
    "type",
    "started_at",
    "seconds",
    "database_bytes",
    "repository_bytes",
    "wal_start",
    "wal_stop",
]
RUN_COLUMNS = ["id", "kind", "backup_type", "label", "started_at", "seconds", "succeeded", "error"]


def _backups(repo: int | None = None) -> Backups:
    stack = LocalStack.from_env()
    if not stack.server_link.exists():
        raise BazaarError("the local stack was never started", exit_code=EXIT_WRONG_STATE, hint="make up")
    backups = Backups.of(stack)
    if repo is not None:
        if repo not in backups.repositories():
            raise BazaarError(
                f"there is no repo{repo}: the stack has {len(backups.repositories())} repository(ies)",
                exit_code=EXIT_BAD_ARGUMENT,
                hint="BAZAAR_BACKUP_REPO2 at `bazaar up` adds a second one",
            )
        backups = backups.on(repo)
    return backups


repo_option = click.option(
    "--repo",
    "repo",
    type=click.IntRange(1, 2),
    help="Use this repository (1 or 2; default: 1, restores: either).",
)


@contextmanager
def _progress_bar(label: str) -> Iterator[Progress | None]:
    """A progress bar on a terminal (stderr), nothing otherwise: pgBackRest's percent done."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1000, label=label, file=sys.stderr, show_eta=True) as bar:
        shown = 0

        def update(_copied: int, percent: float) -> None:
            nonlocal shown
            step = min(1000, int(percent * 10)) - shown
            if step > 0:
                bar.update(step)
                shown += step

        yield update


@cli.group("backup")
def backup_group() -> None:
    """Back up the cluster (pgBackRest), verify backups by restoring them, restore, stage."""


@backup_group.command("run")
@click.option(
    "--type",
    "backup_type",
    type=click.Choice(["full", "diff", "incr"]),
    default="incr",
    show_default=True,
    help="full copies everything; diff what changed since the last full; incr since the last backup.",
)
@repo_option
@json_option
@pass_settings
def run(settings: Settings, backup_type: str, repo: int | None) -> None:
    """Take a backup now, from a streaming standby (the leader only marks its start and stop).

    An incremental or differential with no full backup to build on becomes a full one.
    """
    backups = _backups(repo)
    with _progress_bar(f"{backup_type} backup") as bar:
        result = backups.run(backup_type, bar)  # type: ignore[arg-type]
    print_object(result, settings.json)


@backup_group.command("list")
@json_option
@pass_settings
def list_backups(settings: Settings) -> None:
    """The backups in the repository, oldest first, with their sizes and WAL ranges."""
    print_output(BACKUP_COLUMNS, _backups().backups(), settings.json)


@backup_group.command("info")
@json_option
@pass_settings
def info(settings: Settings) -> None:
    """The repository (stanza status, WAL archived, backups) and the last good backup and verification."""
    print_object(_backups().info(), settings.json)


@backup_group.command("runs")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_settings
def runs(settings: Settings, limit: int) -> None:
    """What the backup commands and the scheduler did, newest first (ops.backup_runs)."""
    print_output(RUN_COLUMNS, _backups().runs(limit), settings.json)


@backup_group.command("check")
@json_option
@pass_settings
def check(settings: Settings) -> None:
    """pgBackRest's check: the configuration is sound and WAL reaches every repository."""
    _backups().check()
    if settings.json:
        print_object({"ok": True}, True)
    else:
        click.echo("the repository is reachable and WAL archiving works")


@backup_group.command("verify")
@repo_option
@click.option(
    "--repo-path",
    "repo_path",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Verify this copy of the first repository (an offsite one) instead.",
)
@json_option
@pass_settings
def verify(settings: Settings, repo: int | None, repo_path: Path | None) -> None:
    """Prove the newest backup restores: check the repository's checksums, restore the backup
    into a scratch directory cut off from the cluster, then amcheck every index and table, run
    the integrity rules and compare per-table digests with its first verification.
    """
    with _progress_bar("restoring for verification") as bar:
        backups = _backups(repo)
        if repo_path is not None:
            backups = dataclasses.replace(backups, repo_path=repo_path.resolve())
        result = backups.verify(bar)
    print_object(result, settings.json)


def _target(time: str | None, lsn: str | None, immediate: bool = False, latest: bool = False) -> Target:
    given = (("--time", time), ("--lsn", lsn), ("--immediate", immediate), ("--latest", latest))
    chosen = [name for name, value in given if value]
    if len(chosen) > 1:
        raise BazaarError(
            f"choose one recovery target, not {' and '.join(chosen)}", exit_code=EXIT_BAD_ARGUMENT
        )
    if time:
        return Target.time(time)
    if lsn:
        return Target.lsn(lsn)
    return Target("immediate") if immediate else Target("latest")


restore_to = click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A new or empty directory for the restored data (the postgres user must reach it).",
)
port_option = click.option(
    "--port", type=click.IntRange(1024, 65535), help="The port the copy listens on (default: a free one)."
)


@backup_group.command("restore")
@restore_to
@click.option("--latest", is_flag=True, help="Recover to the end of the archived WAL (the default).")
@click.option("--time", "--target-time", "time", help="Recover up to this moment ('2026-11-29 14:03:00+00').")
@click.option("--lsn", "--target-lsn", "lsn", help="Recover up to this WAL position ('0/3000060').")
@click.option("--immediate", is_flag=True, help="Stop as soon as the backup itself is consistent.")
@click.option(
    "--set", "label", help="Restore this backup (a label of `backup list`); default: the right one."
)
@repo_option
@port_option
@click.option("--start/--no-start", default=False, help="Leave the copy running (default: stopped).")
@json_option
@pass_settings
def restore(
    settings: Settings,
    to: Path,
    repo: int | None,
    latest: bool,
    time: str | None,
    lsn: str | None,
    immediate: bool,
    label: str | None,
    port: int | None,
    start: bool,
) -> None:
    """Restore a backup into a directory of its own and recover it, by default to the end of
    the archived WAL: a copy of the database as it was, to read from or copy rows back from.

    The live cluster is not touched: the copy does not stream, archive or run scheduled jobs.
    """
    target = _target(time, lsn, immediate, latest)
    with _progress_bar("restoring") as bar:
        backups = _backups(repo)
        instance, _ = backups.restore(to, target, port=port, keep_running=start, label=label, progress=bar)
    result: dict[str, Any] = {"datadir": str(instance.datadir), "target": target.describe(), "running": start}
    if start:
        result |= {"port": instance.port, "dsn": instance.dsn(), "stop": instance.command("stop")}
    else:
        result["start"] = instance.command("start")
    if settings.json:
        print_object(result, True)
        return
    print_object(result, False)


@backup_group.command("stage")
@restore_to
@port_option
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), help="Masking seed (default: a random one).")
@json_option
@pass_settings
def stage(settings: Settings, to: Path, port: int | None, seed: int | None) -> None:
    """A masked copy of the latest data for application teams, left running.

    The latest backup is restored into TO beside the live cluster, every personal value is
    replaced (names, e-mails, phones, texts people wrote, password and code hashes), every login
    role gets a new password (kept in TO.pgpass) and every masked account the printed sign-in
    password. Listing titles and descriptions are public and kept.
    """
    with _progress_bar("restoring for staging") as bar:
        result = staging.stage(_backups(), to, port=port, seed=seed, progress=bar, log=progress)
    print_object(result, settings.json)


@backup_group.command("restore-cluster")
@click.option("--latest", is_flag=True, help="To the end of the archived WAL (the default).")
@click.option("--time", "--target-time", "time", help="Back to this moment ('2026-11-29 14:03:00+00').")
@click.option("--lsn", "--target-lsn", "lsn", help="Back to this WAL position.")
@click.option("--yes", is_flag=True, help="Do not ask: everything written after the target is thrown away.")
@click.option(
    "--force", is_flag=True, help="With --cluster-down: throw away data directories that are still there."
)
@click.option(
    "--cluster-down",
    "down",
    is_flag=True,
    help="Every node is lost (no leader): rebuild the cluster from the repository alone.",
)
@json_option
@pass_settings
def restore_cluster(
    settings: Settings, latest: bool, time: str | None, lsn: str | None, yes: bool, force: bool, down: bool
) -> None:
    """Take the whole live cluster back to a moment of its past (point-in-time recovery).

    The backup is restored and recovered beside the running cluster first; the cluster then stops
    for the swap (seconds), comes back on a new timeline with a fresh full backup, and its replicas
    are rebuilt from that backup. Without --time or --lsn: to the end of the archived WAL.
    """
    target = _target(time, lsn, latest=latest)
    if not yes:
        if not sys.stdin.isatty():
            raise BazaarError(
                "restore-cluster throws away every write after the target: confirm with --yes",
                exit_code=EXIT_BAD_ARGUMENT,
            )
        click.confirm(f"Take the whole cluster back {target.describe()}? Later writes are lost", abort=True)
    stack = LocalStack.from_env()
    backups = _backups()
    result = restore_cluster_to(backups, stack.cluster(), target, progress, down=down, force=force)
    print_object(result, settings.json)
