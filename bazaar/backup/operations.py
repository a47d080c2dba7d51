"""What `bazaar backup` does, for one stack: backups, their list, the repository check, restores
that never touch the live cluster, verification by restoring, and the masked staging copy. Each
run is recorded in ops.backup_runs (outcome, label, sizes, duration), best effort when the live
cluster is down (a restore is what one does then).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import re
import shutil
import sys
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from bazaar import config, queries
from bazaar.backup import metrics, settings
from bazaar.backup.instance import RestoredInstance
from bazaar.backup.pgbackrest import PgBackRest, Progress
from bazaar.backup.schedule import Policy, due
from bazaar.db import connect
from bazaar.errors import EXIT_BAD_ARGUMENT, EXIT_WRONG_STATE, BazaarError, one_line
from bazaar.stack.host import SERVER_USER, make_server_dir, running_as_root, server_user_can_use
from bazaar.stack.layout import ServerRoot

if TYPE_CHECKING:
    from bazaar.stack.local import LocalStack

BackupType = Literal["full", "diff", "incr"]


@dataclass(frozen=True)
class Standing:
    """The backups as they stand (Backups.standing): read once per scheduler tick, for both the
    schedule's decision and the textfile metrics."""

    backups: list[dict[str, Any]]
    verified: dict[int, datetime]  # repository -> its newest good verification
    timeline: int | None  # the primary's, now


FAILED_MARK = "FAILED-VERIFICATION"  # in a verification copy kept for inspection
LOCK_WAIT_S = 3600  # the longest `bazaar up` waits for a running backup before its own
_VERIFY_WAL = re.compile(
    r"archiveId: (?P<archive>\S+), total WAL checked: (?P<checked>\d+), total valid WAL: (?P<valid>\d+)"
)
_RESTORED_SET = re.compile(r"restore backup set (\S+?),")


@dataclass(frozen=True)
class Target:
    """Where a restore's recovery stops: the end of the archived WAL (latest), a time, an LSN,
    or the backup's own consistency point (immediate)."""

    kind: Literal["latest", "time", "lsn", "immediate"]
    value: str | None = None

    @classmethod
    def time(cls, text: str) -> Target:
        """A moment as an ISO 8601 date and time ('2026-11-29 14:03:00+03'); UTC without an offset."""
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise BazaarError(
                f"{text!r} is not a date and time: write it as '2026-11-29 14:03:00+00' (ISO 8601)",
                exit_code=EXIT_BAD_ARGUMENT,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment > datetime.now(UTC):
            raise BazaarError(f"{text!r} is in the future", exit_code=EXIT_BAD_ARGUMENT)
        return cls("time", moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00"))

    @classmethod
    def lsn(cls, text: str) -> Target:
        """A WAL position as PostgreSQL writes it ('0/3000060')."""
        if not re.fullmatch(r"[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}", text.strip()):
            raise BazaarError(
                f"{text!r} is not a WAL position: write it as pg_current_wal_lsn() shows it ('0/3000060')",
                exit_code=EXIT_BAD_ARGUMENT,
            )
        return cls("lsn", text.strip().upper())

    def options(self) -> list[str]:
        if self.kind == "latest":
            return ["--type=default"]
        if self.kind == "immediate":
            return ["--type=immediate", "--target-action=promote"]
        return [f"--type={self.kind}", f"--target={self.value}", "--target-action=promote"]

    def describe(self) -> str:
        if self.kind == "latest":
            return "to the end of the archived WAL"
        if self.kind == "immediate":
            return "to the end of the backup"
        return f"to {self.kind} {self.value}"


@dataclass
class Record:
    """One row of ops.backup_runs while its run goes on."""

    id: int | None
    label: str | None = None
    database_bytes: int | None = None
    repository_bytes: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Backups:
    """The backups of one stack: its server root (pgBackRest's config, the repositories), the
    superuser's DSN to its leader (ops.backup_runs) and its pgpass file (restored copies keep the
    superuser's password)."""

    root: ServerRoot
    admin_dsn: str
    pgpass: Path
    repo: int | None = None  # one repository of the config (PgBackRest.repo)
    repo_path: Path | None = None  # verify another copy of the repository (PgBackRest.repo_path)

    @classmethod
    def of(cls, stack: LocalStack) -> Backups:
        return cls(ServerRoot(stack.server_root()), stack.admin_dsn(), stack.pgpass)

    @property
    def tool(self) -> PgBackRest:
        return PgBackRest(self.root, self.repo, self.repo_path)

    def repositories(self) -> list[int]:
        """The numbers of the repositories these operations use: the one chosen, or all."""
        if self.repo is not None or self.repo_path is not None:
            return [self.repo or 1]
        return list(range(1, len(settings.configured_repositories(self.root)) + 1))

    def on(self, repo: int) -> Backups:
        return dataclasses.replace(self, repo=repo)

    # -- records ---------------------------------------------------------------------------

    @contextmanager
    def recorded(
        self, kind: str, backup_type: str | None = None, *, required: bool = True
    ) -> Iterator[Record]:
        """Record a run in ops.backup_runs: its start, then its outcome. REQUIRED false: a live
        cluster that cannot be reached does not stop the run (a restore is what one does then)."""
        record = Record(None)
        try:
            with connect(self.admin_dsn, autocommit=True) as conn:
                row = conn.execute(
                    queries.load("backup_run_start"), {"kind": kind, "type": backup_type}
                ).fetchone()
                record.id = int(row[0]) if row else None
        except BazaarError:
            if required:
                raise
            print(f"warning: the live cluster is unreachable: this {kind} is not recorded", file=sys.stderr)
        try:
            yield record
        except BaseException as exc:
            self._finish(record, ok=False, error=one_line(str(exc))[:2000])
            raise
        self._finish(record, ok=True)

    def record_failure(self, kind: str, error: BaseException) -> None:
        """Record a run that failed before it could be recorded as it went (best effort)."""
        try:
            with connect(self.admin_dsn, autocommit=True) as conn:
                row = conn.execute(queries.load("backup_run_start"), {"kind": kind, "type": None}).fetchone()
        except BazaarError:
            return
        if row:
            self._finish(Record(int(row[0])), ok=False, error=one_line(str(error))[:2000])

    def _finish(self, record: Record, *, ok: bool, error: str | None = None) -> None:
        if record.id is None:
            return
        try:
            with connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(
                    queries.load("backup_run_finish"),
                    {
                        "id": record.id,
                        "ok": ok,
                        "label": record.label,
                        "database_bytes": record.database_bytes,
                        "repository_bytes": record.repository_bytes,
                        "detail": Jsonb(record.detail),
                        "error": error,
                    },
                )
        except BazaarError:
            print("warning: the live cluster is unreachable: the outcome is not recorded", file=sys.stderr)

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with connect(self.admin_dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(queries.load("backup_runs_recent"), {"limit": limit})
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- the repository ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the stanza (idempotent) and check that WAL reaches the repository."""
        self.tool.run("stanza-create")
        self.tool.run("check")

    def ensure(self, progress: Callable[[str], None]) -> dict[str, Any] | None:
        """What `bazaar up` does: the stanza exists, WAL reaches the repository, and a full backup
        is there to restore from (taken now when there is none); the backup taken, if any."""
        progress("checking the backup repository (pgBackRest stanza, WAL archiving)")
        self.prepare()
        taken = None
        for repo in self.repositories():
            if not any(not b["error"] and b["repo"] == repo for b in self.backups()):
                progress(f"taking the first full backup (repo{repo})")
                taken = _when_unlocked(functools.partial(self.on(repo).run, "full"), progress)
        self.publish_metrics()  # the scheduler rewrites them every minute; until then, these
        return taken

    def standing(self) -> Standing:
        """What the schedule and the metrics read, once: the repository's backups (pgBackRest's
        info), each repository's last good verification, the timeline the primary writes on."""
        with connect(self.admin_dsn, autocommit=True) as conn:
            verified = dict(conn.execute(queries.load("backup_last_verified")).fetchall())
            row = conn.execute(queries.load("server_timeline")).fetchone()
        return Standing(self.backups(), verified, int(row[0]) if row else None)

    def publish_metrics(self, standing: Standing | None = None) -> None:
        """Rewrite the backups' textfile metrics that node_exporter serves (bazaar/backup/metrics.py)."""
        state = standing or self.standing()
        text = metrics.exposition(state.backups, state.verified, self.repositories(), datetime.now(UTC))
        metrics.write(self.root.metrics_dir, text)

    def backups(self) -> list[dict[str, Any]]:
        """The backups in the repository, oldest first."""
        rows = []
        for b in self.tool.info().get("backup", []):
            rows.append(
                {
                    "label": b["label"],
                    "type": b["type"],
                    "started_at": datetime.fromtimestamp(b["timestamp"]["start"], UTC),
                    "stopped_at": datetime.fromtimestamp(b["timestamp"]["stop"], UTC),
                    "seconds": b["timestamp"]["stop"] - b["timestamp"]["start"],
                    "database_bytes": b["info"]["size"],
                    "backup_bytes": b["info"]["delta"],
                    "repository_bytes": b["info"]["repository"]["delta"],
                    "wal_start": b["archive"]["start"],
                    "wal_stop": b["archive"]["stop"],
                    "lsn_stop": b["lsn"]["stop"],
                    "based_on": b.get("prior"),
                    "error": b.get("error", False),
                    "repo": b["database"]["repo-key"],
                }
            )
        return rows

    def info(self) -> dict[str, Any]:
        """The repository and the newest good backup and verification, for `bazaar backup info`."""
        info = self.tool.info()
        # each repository's archived WAL (its newest archive id); wal_max is the one lagging most
        ranges = {a["database"]["repo-key"]: (a.get("min"), a.get("max")) for a in info.get("archive", [])}
        good = [b for b in self.backups() if not b["error"]]
        result: dict[str, Any] = {
            "stanza": info.get("name"),
            "status": info.get("status", {}).get("message"),
            "cipher": info.get("cipher"),
            "repositories": [str(self.repo_path)]
            if self.repo_path
            else [str(p) for p in settings.configured_repositories(self.root)],
            "backups": len(good),
            "oldest_restorable": good[0]["stopped_at"] if good else None,
            "wal": {f"repo{k}": f"{lo} - {hi}" for k, (lo, hi) in sorted(ranges.items())},
            "wal_min": min((lo for lo, _ in ranges.values() if lo), default=None),
            "wal_max": min((hi for _, hi in ranges.values() if hi), default=None),
            "last_backup": good[-1]["label"] if good else None,
            "last_backup_at": good[-1]["stopped_at"] if good else None,
        }
        try:
            with connect(self.admin_dsn, autocommit=True) as conn:
                verified = dict(conn.execute(queries.load("backup_last_verified")).fetchall())
            result["last_verified_at"] = max(verified.values(), default=None)
        except BazaarError:
            result["last_verified_at"] = "unknown (the live cluster is unreachable)"
        return result

    def run(
        self, backup_type: BackupType, progress: Progress | None = None, *, standby: bool = True
    ) -> dict[str, Any]:
        """Take a backup, from a standby unless STANDBY is false, into this repository (repo1
        unless one was chosen); a summary of it."""
        if self.repo is None and self.repo_path is None:
            return self.on(1).run(backup_type, progress, standby=standby)
        with self.recorded("backup", backup_type) as record:
            before = {b["label"] for b in self.backups()}
            started = time.monotonic()
            options = [f"--type={backup_type}"] + ([] if standby else ["--no-backup-standby"])
            self.tool.run("backup", *options, progress=progress)
            seconds = round(time.monotonic() - started, 1)
            new = [b for b in self.backups() if b["label"] not in before]
            if not new:
                raise BazaarError("pgbackrest backup finished but no new backup is in the repository")
            backup = new[-1]
            record.label = backup["label"]
            record.database_bytes = backup["database_bytes"]
            record.repository_bytes = backup["repository_bytes"]
            record.detail = {
                "repo": self.repo,
                "seconds": seconds,
                "based_on": backup["based_on"],
                "lsn_stop": backup["lsn_stop"],
            }
        return {**backup, "seconds": seconds}

    # -- the schedule --------------------------------------------------------------------------

    def due(self, policy: Policy, skip: Collection[str] = (), standing: Standing | None = None) -> str | None:
        """The job the schedule says is due now (bazaar/backup/schedule.py), but for SKIP's."""
        state = standing or self.standing()
        for repo in self.repositories():  # each repository on its own schedule, repo1 first
            mine = [b for b in state.backups if b["repo"] == repo]
            job = due(policy, mine, state.verified.get(repo), state.timeline, datetime.now(UTC))
            if job is not None and f"{job}@repo{repo}" not in skip:
                return f"{job}@repo{repo}"
        return None

    def run_job(self, job: str) -> str:
        """Run a scheduled JOB ("incr@repo1"); a line saying what it made."""
        kind, _, repo = job.partition("@repo")
        on = self.on(int(repo or 1))
        if kind == "verify":
            result = on.verify()
            return f"backup {result['label']} verified in {result['seconds']} s ({result['rows']} rows)"
        backup = on.run(cast(BackupType, kind))
        return (
            f"{backup['type']} backup {backup['label']} in {backup['seconds']} s, "
            f"{backup['repository_bytes']} bytes in the repository"
        )

    def check(self) -> None:
        """pgBackRest's check: the configuration is sound and a WAL segment reaches the repository."""
        self.tool.run("check")

    # -- restores ------------------------------------------------------------------------------

    def restore(
        self,
        to: Path,
        target: Target,
        *,
        port: int | None = None,
        keep_running: bool = False,
        label: str | None = None,
        progress: Progress | None = None,
        record_kind: str | None = "restore",
    ) -> tuple[RestoredInstance, Record]:
        """Restore into TO (absent or empty) and recover to TARGET, cut off from the live cluster;
        the copy is left stopped unless KEEP_RUNNING."""
        to = to.resolve()
        _check_target_directory(to)
        self._check_space(to, label)
        recording = self.recorded(record_kind, required=False) if record_kind else nullcontext(Record(None))
        with recording as record:
            make_server_dir(to, 0o700)
            created = True
            try:
                options = [
                    f"--pg1-path={to}",
                    "--archive-mode=off",
                    "--job-retry=0",  # a full disk or a bad file does not get better in 15 s
                    f"--recovery-option=restore_command={self._restore_command(to)}",
                    *target.options(),
                ]
                if label:
                    options.append(f"--set={label}")
                if progress is None:
                    options.append("--log-level-console=info")  # names the backup set restored
                output = self.tool.run("restore", *options, progress=progress)
                instance = RestoredInstance(to, port or _free_port(), self.pgpass)
                instance.isolate()
                instance.start()
                instance.wait_promoted()
                found = _RESTORED_SET.search(output)
                record.label = found[1] if found else label
                record.detail = {
                    "to": str(to),
                    "target": target.kind,
                    "value": target.value,
                    "port": instance.port,
                }
                if not keep_running:
                    instance.stop()
                created = False
            finally:
                if created:  # it failed: nothing half-restored stays behind
                    with contextlib.suppress(BazaarError):  # the first error is the one to tell
                        RestoredInstance(to, 0, self.pgpass).stop()
                    shutil.rmtree(to, ignore_errors=True)
        return instance, record

    def _check_space(self, to: Path, label: str | None) -> None:
        """Refuse a restore that cannot fit before writing anything: the backup's database size
        (the largest backup's when the target may pick any) against the free space at TO."""
        backups = [b for b in self.backups() if not b["error"] and (label is None or b["label"] == label)]
        needed = max((b["database_bytes"] for b in backups), default=0)
        free = shutil.disk_usage(to if to.exists() else to.parent).free
        if needed > free:
            raise BazaarError(
                f"{to} has {free >> 20} MB free; the restored database needs {needed >> 20} MB",
                exit_code=EXIT_BAD_ARGUMENT,
                hint="restore onto a disk with more free space",
            )

    def _restore_command(self, to: Path) -> str:
        """How the copy fetches WAL: from the repository, read-only, with a lock of its own and no
        asynchronous queue (nothing of the live nodes' spools)."""
        lock = make_server_dir(self.root.run_dir / "restore-lock", 0o700)
        return " ".join(
            [
                *self.tool.base(),
                f"--pg1-path={to}",
                "--no-archive-async",
                f"--lock-path={lock}",
                'archive-get %f "%p"',
            ]
        )

    # -- verification -----------------------------------------------------------------------------

    def verify(self, progress: Progress | None = None) -> dict[str, Any]:
        """Check the repository (pgbackrest verify), then restore the latest backup into a scratch
        directory, start it cut off from the cluster and check it: amcheck on every index and
        heap of core, the integrity rules, and per-table digests (compared with the first
        verification of the same backup). Raises naming what failed; a summary otherwise. Of
        this repository: repo1 unless one was chosen, or the copy at repo_path."""
        if self.repo is None and self.repo_path is None:
            return self.on(1).verify(progress)
        backups = [b for b in self.backups() if not b["error"]]
        if not backups:
            raise BazaarError(
                "there is no backup to verify", exit_code=EXIT_WRONG_STATE, hint="bazaar backup run"
            )
        label = backups[-1]["label"]
        started = time.monotonic()
        with self._verify_lock() as scratch_root, self.recorded("verify") as record:
            scratch = scratch_root / f"{label}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
            record.label = label
            self.verify_repository()
            instance, _ = self.restore(
                scratch,
                Target("immediate"),
                keep_running=True,
                label=label,
                progress=progress,
                record_kind=None,  # part of this verification's record
            )
            try:
                found = self._check_copy(instance)
            finally:
                instance.stop()
            earlier = self._first_verified_digests(label)
            differing = sorted(t for t, v in found["tables"].items() if earlier and earlier.get(t) != v)
            record.detail = {"tables": found["tables"], "compared_with_earlier": earlier is not None}
            if self.repo_path is None:  # a copy's verification says nothing of the stack's repository
                record.detail["repo"] = self.repo
            record.database_bytes = backups[-1]["database_bytes"]
            record.repository_bytes = backups[-1]["repository_bytes"]
            problems = [*found["problems"], *(f"{t} differs from its first verification" for t in differing)]
            if problems:
                (scratch / FAILED_MARK).write_text("\n".join(problems) + "\n")
                raise BazaarError(
                    f"backup {label} failed verification: {problems[0]}"
                    + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                    detail="\n".join(problems[:20]),
                    hint=f"the restored copy is kept in {scratch}",
                )
            shutil.rmtree(scratch, ignore_errors=True)
        return {
            "label": label,
            "tables": len(found["tables"]),
            "rows": sum(v["rows"] for v in found["tables"].values()),
            "indexes_checked": found["indexes"],
            "compared_with_earlier": earlier is not None,
            "seconds": round(time.monotonic() - started, 1),
        }

    @contextmanager
    def _verify_lock(self) -> Iterator[Path]:
        """One verification at a time per stack (the scheduler's, an operator's): a lock on the
        scratch root. Holding it, copies left by an earlier run that died are stopped and removed;
        the newest one kept after a failed verification stays for inspection."""
        root = make_server_dir(self.root.path / "backup" / "verify", 0o700)
        with (root / ".lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BazaarError(
                    "another verification of this stack is running",
                    exit_code=EXIT_WRONG_STATE,
                    hint="`bazaar backup runs` shows it; try again when it ends",
                ) from None
            kept = sorted(
                (p for p in root.iterdir() if (p / FAILED_MARK).exists()), key=lambda p: p.stat().st_mtime
            )
            for old in (p for p in root.iterdir() if p.is_dir() and p not in kept[-1:]):
                with contextlib.suppress(BazaarError):
                    RestoredInstance(old, 0, self.pgpass).stop()
                shutil.rmtree(old, ignore_errors=True)
            yield root

    def verify_repository(self) -> None:
        """pgBackRest's verify: every file of every backup and WAL segment against its checksum.
        pgBackRest 2.45 exits 0 whatever it finds, so its summary is read instead."""
        output = self.tool.run("verify", "--output=text", "--verbose")
        if re.search(r"^status: ok$", output, re.MULTILINE):
            return
        lines = [line.strip() for line in output.splitlines()] + [""]
        problems = []
        for n, line in enumerate(lines[:-1]):
            wal = _VERIFY_WAL.match(line)
            if line.startswith("backup:") and "status: valid" not in line:
                problems.append(f"{line} ({lines[n + 1]})")
            elif wal and wal["checked"] != wal["valid"]:
                problems.append(
                    f"WAL {wal['archive']}: {wal['checked']} checked, {wal['valid']} valid ({lines[n + 1]})"
                )
        problems = problems or ["status: error"]
        raise BazaarError(
            f"the repository failed pgbackrest verify: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            detail="\n".join(problems),
            hint="restore from another copy of the repository, or take a full backup now",
        )

    def _check_copy(self, instance: RestoredInstance) -> dict[str, Any]:
        problems: list[str] = []
        tables: dict[str, dict[str, Any]] = {}
        with instance.connect() as conn:
            for rule, violations, sample in conn.execute(queries.load("integrity_violations")):
                problems.append(f"integrity rule {rule}: {violations} violation(s), e.g. {list(sample)}")
            indexes = [r[0] for r in conn.execute(queries.load("verify_btree_indexes"))]
            for index in indexes:
                try:
                    conn.execute(queries.load("verify_btree_index"), {"index": index})
                except psycopg.Error as exc:
                    problems.append(f"index {index}: {one_line(str(exc))}")
            for (heap,) in conn.execute(queries.load("verify_heaps")).fetchall():
                try:
                    row = conn.execute(queries.load("verify_heap"), {"heap": heap}).fetchone()
                except psycopg.Error as exc:
                    problems.append(f"table {heap}: {one_line(str(exc))}")
                    continue
                if row and row[0]:
                    problems.append(f"table {heap}: {row[0]} corrupt tuple(s)")
            for (table,) in conn.execute(queries.load("verify_tables")).fetchall():
                digest = sql.SQL(queries.load("verify_table_digest")).format(table=sql.SQL(table))
                try:
                    row = conn.execute(digest).fetchone()
                except psycopg.Error as exc:  # a page that cannot be read
                    problems.append(f"table {table}: {one_line(str(exc))}")
                    continue
                if row is not None:
                    tables[table] = {"rows": int(row[0]), "digest": str(row[1])}
        return {"problems": problems, "tables": tables, "indexes": len(indexes)}

    def _first_verified_digests(self, label: str) -> dict[str, Any] | None:
        with connect(self.admin_dsn, autocommit=True) as conn:
            row = conn.execute(queries.load("backup_first_verified"), {"label": label}).fetchone()
        return dict(row[0]) if row and row[0] else None


def _when_unlocked(action: Callable[[], dict[str, Any]], progress: Callable[[str], None]) -> dict[str, Any]:
    """ACTION, again while another backup (the scheduler's) holds pgBackRest's lock."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return action()
        except BazaarError as exc:
            if "unable to acquire lock" not in str(exc) or time.monotonic() > deadline:
                raise
            progress("another backup is running; waiting for it to finish")
            time.sleep(5)


def _check_target_directory(to: Path) -> None:
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise BazaarError(
            f"{to} is not an empty directory: a restore writes only into a new or empty one",
            exit_code=EXIT_BAD_ARGUMENT,
        )
    parent = to.parent
    if not parent.is_dir():
        raise BazaarError(f"{parent} is not a directory", exit_code=EXIT_BAD_ARGUMENT)
    # as root the directory is made for the server user, who then only needs to reach it
    if not server_user_can_use(parent, write=not running_as_root()):
        raise BazaarError(
            f"the {SERVER_USER} OS user cannot reach {parent}",
            exit_code=EXIT_BAD_ARGUMENT,
            hint=f"restore under a directory whose every parent {SERVER_USER} may enter (not under /root)",
        )


def _free_port() -> int:
    """A port nothing listens on, below the ephemeral range (as the stacks' ports are)."""
    return config.Ports(config.free_port_offset()).postgres(1)
