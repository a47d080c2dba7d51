"""A PostgreSQL started on a restored data directory, cut off from the live cluster.

A restored Patroni data directory still carries the live cluster's settings (a backup taken
from a standby has its postgresql.conf): the leader's primary_conninfo and a replication slot,
an archive_command into the live repository, a restore_command with the live node's spool and
paths, the live node's port, hba_file and ident_file, synchronous_standby_names, pg_cron's jobs.
Started as is it would stream from the cluster, archive into the live repository or run the
marketplace's scheduled jobs. So its postgresql.conf and pg_hba.conf are replaced by these, and it
listens on a port of its own.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bazaar import config, queries
from bazaar.backup import settings
from bazaar.db import loopback_dsn
from bazaar.errors import EXIT_BAD_ARGUMENT, EXIT_FAILURE, BazaarError
from bazaar.stack.host import as_server_user, bindir, pg_ctl, write_server_file
from bazaar.stack.processes import poll, run

CONF = """\
# Written by bazaar/backup/instance.py: a restored copy of the marketplace, cut off from the live
# cluster (no streaming, no archiving, no scheduled jobs, a port of its own).
include_if_exists 'postgresql.base.conf'
port = {port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
hba_file = '{datadir}/pg_hba.conf'
ident_file = '{datadir}/pg_ident.conf'
cluster_name = 'bazaar-restored'
archive_mode = off
primary_conninfo = ''
primary_slot_name = ''
synchronous_standby_names = ''
shared_preload_libraries = ''
hot_standby = on
log_line_prefix = '%m [%p] %q%u@%d '
"""
HBA = """\
# Written by bazaar/backup/instance.py: the postgres OS user on the socket; passwords on TCP.
local all postgres peer
host all all 127.0.0.1/32 scram-sha-256
"""


# pg_controldata's name of a setting -> the setting
CONTROL_SETTINGS = {
    "max_connections": "max_connections",
    "max_worker_processes": "max_worker_processes",
    "max_wal_senders": "max_wal_senders",
    "max_prepared_xacts": "max_prepared_transactions",
    "max_locks_per_xact": "max_locks_per_transaction",
}


class _Stopped(BazaarError):
    """The copy's PostgreSQL is gone: waiting longer will not help."""


@dataclass(frozen=True)
class RestoredInstance:
    datadir: Path
    port: int
    passfile: Path  # the stack's pgpass: the copy keeps the superuser's password

    @property
    def log_file(self) -> Path:
        return self.datadir / "restored.log"  # inside: the parent may be root's

    def isolate(self) -> None:
        """Replace the restored copy's live settings with the copy's own (before it first starts)."""
        conf = CONF.format(port=self.port, socket_dir=settings.SOCKET_DIR, datadir=self.datadir)
        write_server_file(self.datadir / "postgresql.conf", conf + self._primary_settings())
        write_server_file(self.datadir / "pg_hba.conf", HBA)

    def _primary_settings(self) -> str:
        """The settings recovery needs at least as high as the primary had them (it pauses
        otherwise), as the restored control file records them."""
        control = run(as_server_user([str(bindir() / "pg_controldata"), str(self.datadir)]), "pg_controldata")
        lines = []
        for label, name in CONTROL_SETTINGS.items():
            found = re.search(rf"^{label} setting:\s+(\d+)$", control.stdout, re.MULTILINE)
            if found:
                lines.append(f"{name} = {found[1]}\n")
        return "# as the primary had them (pg_controldata): recovery needs at least these\n" + "".join(lines)

    def start(self, timeout: float = 900) -> None:
        """Start it and wait until it accepts connections (recovery replays WAL first)."""
        try:
            self._pg_ctl_start(timeout)
        except BazaarError as exc:
            if not (self.datadir / "postmaster.pid").exists():
                raise self._why_stopped() from exc
            raise

    def _pg_ctl_start(self, timeout: float) -> None:
        argv = pg_ctl(self.datadir, "start", log=self.log_file, timeout=timeout)
        run(argv, "starting the restored PostgreSQL", timeout=timeout + 30)

    def stop(self) -> None:
        if not (self.datadir / "postmaster.pid").exists():
            return
        run(pg_ctl(self.datadir, "stop", mode="fast", timeout=120), "stopping the restored PostgreSQL")

    def command(self, action: str) -> str:
        """How an operator starts or stops the copy (as the postgres user)."""
        log = f" --log {self.log_file}" if action == "start" else ""
        return f"runuser -u postgres -- {bindir() / 'pg_ctl'} --pgdata {self.datadir}{log} {action}"

    def dsn(self, dbname: str = config.DATABASE) -> str:
        """As the superuser over TCP, with the password the copy shares with the live cluster."""
        return loopback_dsn(self.port, "postgres", dbname, passfile=str(self.passfile))

    def connect(self, dbname: str = config.DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=10)

    def timeline(self) -> int:
        """The timeline the copy writes on (a promotion starts a new one)."""
        with self.connect() as conn:
            row = conn.execute(queries.load("server_timeline")).fetchone()
        assert row is not None
        return int(row[0])

    def wait_promoted(self, timeout: float = 900) -> None:
        """Wait until recovery reached its target and the copy accepts writes (it was promoted).
        A copy that stopped (a target past the archived WAL, a missing segment) fails at once."""

        def promoted() -> bool:
            if not (self.datadir / "postmaster.pid").exists():
                raise self._why_stopped()
            with self.connect("postgres") as conn:
                return conn.execute(queries.load("server_in_recovery")).fetchone() == (False,)

        started = time.monotonic()
        try:
            poll(promoted, timeout, "the restored copy to finish recovery", interval=0.5, fatal=_Stopped)
        except _Stopped:
            raise
        except BazaarError as exc:
            raise BazaarError(
                f"the restored copy did not finish recovery in {time.monotonic() - started:.0f} s",
                exit_code=EXIT_FAILURE,
                detail=self.log_tail(),
            ) from exc

    def _why_stopped(self) -> _Stopped:
        tail = self.log_tail(40)
        if "recovery ended before configured recovery target was reached" in tail:
            return _Stopped(
                "the recovery target is past the end of the archived WAL: nothing was written that late",
                exit_code=EXIT_BAD_ARGUMENT,
                hint="`bazaar backup info` shows the archived WAL; omit the target to restore all of it",
            )
        return _Stopped("the restored copy stopped during recovery", exit_code=EXIT_FAILURE, detail=tail)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
