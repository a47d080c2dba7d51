"""Backup benchmark: pgBackRest as the stack is configured, against pg_basebackup, on a real
three-node stack with demo data; print JSON.

    .venv/bin/python bench/backup.py [-n 3] [--scale 0.1] [--output bench/results/backup.json]

By default it starts a stack of its own (BAZAAR_HOME under /tmp, a free port offset, the backup
scheduler idle: BAZAAR_BACKUP_SCHEDULE="full=off diff=off incr=off verify=off") and removes it
afterwards; `--running` uses the stack of an explicitly set BAZAAR_HOME / BAZAAR_PORT_OFFSET
instead (it must be up, and it is changed: data generated when empty, switchovers, backups in its
repository, whose retention then drops older ones). `bazaar generate --scale S --if-empty` loads
the data first. Scratch directories (pg_basebackup's output, scratch repositories, restores) are
under the benchmark's own directory in /tmp, which the postgres OS user can traverse, and are
removed after each run. Progress goes to stderr, the JSON alone to stdout and to --output.

After loading, VACUUM ANALYZE and those checkpoints (below) settle the data as a database
running for a while holds it: the first vacuum of freshly loaded tables (autovacuum's, after the
inserts) rewrites every page they have, which in the middle of the measurements would make an
incremental backup copy whole tables (pgBackRest 2.45 copies changed files whole, not changed
blocks).

Every measurement is repeated N times (runs of the sections alternate where they compare
things, so a drift of the machine's speed touches each alike); a figure is {median, min, max}
and "runs" lists every run. Seconds are wall-clock around the command. Before each timed backup
a CHECKPOINT on the leader, then on each standby once it has replayed it (a restartpoint: a
standby flushes its pages only every checkpoint_timeout otherwise), puts every write so far into
the data files the backup reads, so an incremental counts each change once. The machine has
plenty of memory: the data directories stay in the page cache, so the figures measure CPU
(checksums, compression, encryption) and fsync, not reading disks.

- full: a full backup, three ways, of the same cluster:
  pgbackrest: `Backups.run("full")`, as the stack is configured (bazaar/backup/settings.py,
  backup/pgbackrest.conf: lz4 level 1, process-max 2, files read on a streaming standby,
  encrypted repository, small files bundled); database_bytes: the cluster's files it backed up
  (pg_wal excluded), repository_bytes: what the backup added to the repository (its WAL is
  archived separately and not counted);
  pg_basebackup_plain: `pg_basebackup -Fp --checkpoint=fast` from the leader (through HAProxy's
  read-write port, as the replication user: pg_hba lets only it make replication connections);
  pg_basebackup_tar_lz4: the same with `-Ft --compress=client-lz4` (the server sends plain
  files, the client compresses); bytes: the sum of the sizes of the files it wrote, WAL streamed
  during the backup included (wal_bytes: that part); cpu_s: CPU seconds of the client processes
  (pgBackRest's, which read and compress the files themselves; pg_basebackup's, whose server
  side, the walsender reading the files, is not counted);
  ratio: pgbackrest / pg_basebackup of the median seconds and bytes (below 1: pgBackRest is
  faster or smaller).
- compression: a full backup (from the standby, as above) into a new scratch repository
  (stanza-create, then backup --repo1-path=… --compress-type=… --compress-level=…
  --no-archive-check: no WAL reaches that repository) per codec and run: lz4:1 (the stack's
  setting), zst:1, zst:3, gz:6; seconds, repository_bytes, cpu_s as above; ratio_to_lz4_1: the
  medians over lz4:1's.
- incremental: per run an incremental that is not timed (what changed before is in it), then
  small_change: ROWS rows inserted into bazaar_drill.drill_writes, then `Backups.run("incr")`;
  one_listing_row: one row of core.listings, the largest table, updated to the same values
  (a new row version in one page), then another incremental; seconds, bytes_copied (the files
  the backup stored, pgBackRest's "delta"), repository_bytes; listings_bytes: that table's main
  file(s). pgBackRest 2.45 copies a changed file whole (up to 1 GB segments), so a page changed
  in a big table costs the table. minute_passed (per backup; summed: how many runs): a minute
  began since the previous backup started, so pg_cron's per-minute jobs ran in between
  (expire_reservations changes rows of core.listings and writes status history and
  notifications: such a backup copies those tables whole).
- after_switchover: ROWS rows inserted, `bazaar cluster switchover --json`, cluster healthy
  again, then an incremental (against the backup taken before the switchover, on the old
  timeline) and right after it a full, both on the new timeline: seconds, bytes_copied,
  repository_bytes of each (minute_passed as above); incr_over_full: the incremental's median
  over the full's; incr_over_same_timeline_incr: over the incremental section's small_change;
  warnings: pgBackRest's WARN lines of the post-switchover incrementals (its backup log);
  standby_read (per run, before and after the switchover): the node whose files the backups
  read, the first standby in node order, as pgBackRest picks it (inferred from the cluster's
  roles, not reported by pgBackRest). pgBackRest compares files by checksum here (delta=y); the
  nodes' copies of one file can differ in hint bits and page flags, which are not WAL-logged (a
  node that led through heavy writes, the bulk load here, has many such pages), and a file with
  one differing page is copied whole: a different source node can copy much. by_standby_read:
  the incrementals of the runs whose source node stayed the same and of those where it changed,
  apart (count: how many runs; a kind absent when no run had it). Which node pgBackRest reads
  depends on the node order, so each run also measures the mechanism itself, in a scratch
  repository: standby_vs_standby: a full backup reading one standby (the one not demoted by this
  switchover), then an incremental reading the other (pg1…pg3 reordered on the command line):
  seconds and bytes_copied of that incremental, apart for the runs where one of the two
  standbys was the leader while the data was loaded (one_led_the_load) and those where that
  node is the leader now (neither_led_the_load). load_leader: that node (with --running and
  data there already, the leader at the start).
- restore: `bazaar backup restore --to DIR --json` into a new directory: restore the newest
  backup, recover to the end of the archived WAL, start, promote, stop; seconds of the command.
- verify: `bazaar backup verify --json` (pgbackrest verify, restore the newest backup, amcheck,
  integrity rules, per-table digests); seconds of the command, own_s: what it reports, rows.
- database_bytes: pg_database_size of bazaar and pgBackRest's size of the whole cluster;
  versions, machine (cpu count, load average at the start), loadavg_1m_after (per section: a
  value well above what the benchmark makes itself, about 2, means something else was busy),
  runtime_s: the benchmark's wall clock up to the report (the stack's start included, its stop
  not).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

from bazaar import config, drill, queries
from bazaar.backup import settings
from bazaar.backup.operations import Backups, BackupType
from bazaar.backup.pgbackrest import PgBackRest
from bazaar.db import connect
from bazaar.stack.host import SYSTEM_ROOT, as_server_user, bindir, make_server_dir, write_server_file
from bazaar.stack.layout import NODES, ServerRoot, node_number
from bazaar.stack.local import LocalStack
from bazaar.stack.processes import poll, run
from bazaar.stack.users import REPLICATION_USER, SUPERUSER

CODECS = (("lz4", 1), ("zst", 1), ("zst", 3), ("gz", 6))
ROWS = 1000
HEALTHY_TIMEOUT_S = 180
COMMAND_TIMEOUT_S = 3600
IDLE_SCHEDULE = "full=off diff=off incr=off verify=off"
# a stack of its own must not share the caller's repository or connection settings
FOREIGN_ENV = ("BAZAAR_BACKUP_REPO", "BAZAAR_BACKUP_REPO2", "BAZAAR_DSN", "BAZAAR_ADMIN_DSN")
RESULT = Path(__file__).resolve().parent / "results" / "backup.json"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def summary(values: list[float], digits: int = 2) -> dict[str, float]:
    ordered = sorted(values)
    if digits == 0:
        return {"median": int(statistics.median(ordered)), "min": int(ordered[0]), "max": int(ordered[-1])}
    return {
        "median": round(statistics.median(ordered), digits),
        "min": round(ordered[0], digits),
        "max": round(ordered[-1], digits),
    }


def median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def children_cpu_s() -> float:
    """CPU seconds of the child processes ended so far (and of their own waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def timed(result: dict[str, Any]) -> Iterator[None]:
    """Store the wall-clock seconds and the children's CPU seconds of the block in RESULT."""
    cpu = children_cpu_s()
    started = time.monotonic()
    yield
    result["seconds"] = round(time.monotonic() - started, 3)
    result["cpu_s"] = round(children_cpu_s() - cpu, 2)


def files_bytes(path: Path, under: str | None = None) -> int:
    """The sum of the sizes of the regular files below PATH (only those under PATH/UNDER if given)."""
    total = 0
    for directory, _dirs, names in os.walk(path / under if under else path):
        for name in names:
            entry = Path(directory) / name
            if entry.is_file() and not entry.is_symlink():
                total += entry.stat().st_size
    return total


class Bench:
    def __init__(self, stack: LocalStack, env: dict[str, str], scratch: Path, n: int) -> None:
        self.stack = stack
        self.env = env
        self.scratch = scratch
        self.n = n
        self.backups = Backups.of(stack)
        self.root = self.backups.root
        self.last_backup_at: float | None = None  # time.time() at the start of the last backup
        self.load_leader: str | None = None  # the leader when the demo data was loaded

    # -- helpers -------------------------------------------------------------------------------

    def bazaar(self, *args: str) -> None:
        # its output goes to stderr: stdout is the JSON report alone
        argv = [sys.executable, "-m", "bazaar", *args]
        subprocess.run(argv, env=self.env, check=True, timeout=COMMAND_TIMEOUT_S, stdout=sys.stderr)

    def bazaar_json(self, *args: str) -> Any:
        argv = [sys.executable, "-m", "bazaar", *args, "--json"]
        result = subprocess.run(
            argv, env=self.env, check=True, timeout=COMMAND_TIMEOUT_S, stdout=subprocess.PIPE, text=True
        )
        return json.loads(result.stdout)

    def sql(self, query: str, params: tuple[Any, ...] = (), dbname: str = config.DATABASE) -> Any:
        with connect(self.stack.admin_dsn(dbname), autocommit=True) as conn:
            cur = conn.execute(query, params)
            row = cur.fetchone() if cur.description else None
        return row[0] if row else None

    def settle(self) -> None:
        """CHECKPOINT on the leader, then on each standby once it has replayed that far (a
        restartpoint, which a standby otherwise makes every checkpoint_timeout): every write so
        far is in the data files, the standbys' included, that a backup reads."""
        ports = self.stack.ports
        nodes = {n: self.stack.conninfo(ports.postgres(node_number(n)), SUPERUSER, "postgres") for n in NODES}
        standbys = []
        lsn = None
        for node, dsn in nodes.items():
            with connect(dsn, autocommit=True) as conn:
                row = conn.execute(queries.load("server_in_recovery")).fetchone()
                if row and row[0]:
                    standbys.append(node)
                    continue
                conn.execute("checkpoint")
                row = conn.execute("select pg_current_wal_lsn()::text").fetchone()
                lsn = row[0] if row else None
        for node in standbys:
            with connect(nodes[node], autocommit=True) as conn:

                def replayed() -> bool:
                    row = conn.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()
                    return bool(row and row[0])

                poll(replayed, HEALTHY_TIMEOUT_S, f"{node} to replay the leader's checkpoint")
                conn.execute("checkpoint")

    def timeline(self) -> int:
        return int(self.sql(queries.load("server_timeline")))

    def insert_rows(self, run_id: str) -> None:
        self.sql(
            "insert into public.drill_writes (run, n) select %s, g from generate_series(1, %s) g",
            (run_id, ROWS),
            drill.DRILL_DATABASE,
        )

    def wait_healthy(self) -> tuple[str, list[str]]:
        """Wait for a healthy cluster; its leader and its standbys in node order. pgBackRest reads a
        backup's files from the first standby in the order of its pg1…pg3 (node1…node3)."""
        members = self.stack.cluster().wait_healthy(HEALTHY_TIMEOUT_S)
        leader = next(m.name for m in members if m.role == "leader")
        return leader, [n for n in NODES if n != leader]

    def read_from(self, standby: str, leader: str) -> list[str]:
        """pg1…pg3 reordered on the command line so that pgBackRest reads STANDBY's files."""
        options = []
        order = [standby, leader, *(n for n in NODES if n not in (standby, leader))]
        for i, node in enumerate(order, start=1):
            port = self.stack.ports.postgres(node_number(node))
            options += [f"--pg{i}-path={self.root.datadir(node)}", f"--pg{i}-port={port}"]
        return options

    def cross_node_incr(self, first: str, then: str, leader: str, tag: str) -> dict[str, Any]:
        """In a scratch repository, a full backup reading standby FIRST, then an incremental
        reading standby THEN: what it copies is what differs between their files."""
        repo = self.scratch / f"repo-cross-{tag}"
        tool = PgBackRest(self.root)
        common = [f"--repo1-path={repo}", "--no-archive-check"]
        result: dict[str, Any] = {"full_read": first, "incr_read": then}
        try:
            tool.run("stanza-create", f"--repo1-path={repo}")
            self.settle()
            tool.run(
                "backup", *common, "--type=full", *self.read_from(first, leader), timeout=COMMAND_TIMEOUT_S
            )
            self.settle()
            with timed(result):
                tool.run(
                    "backup", *common, "--type=incr", *self.read_from(then, leader), timeout=COMMAND_TIMEOUT_S
                )
            backup = PgBackRest(self.root, repo_path=repo).info()["backup"][-1]
            result["bytes_copied"] = backup["info"]["delta"]
            result["repository_bytes"] = backup["info"]["repository"]["delta"]
        finally:
            shutil.rmtree(repo, ignore_errors=True)
        return result

    def wait_timeline_above(self, before: int) -> None:
        poll(lambda: self.timeline() > before, 60, f"a timeline after {before}")

    def backup_log(self) -> Path:
        return self.root.log_dir / "pgbackrest" / f"{settings.STANZA}-backup.log"

    def pgbackrest_backup(self, backup_type: BackupType) -> dict[str, Any]:
        """One backup into the stack's repository as it is configured; its figures."""
        self.settle()
        result: dict[str, Any] = {}
        started = time.time()
        with timed(result):
            backup = self.backups.run(backup_type)
        # pg_cron's per-minute jobs run at the start of each minute
        minute_passed = self.last_backup_at is not None and self.last_backup_at // 60 != time.time() // 60
        self.last_backup_at = started
        return {
            **result,
            "minute_passed": minute_passed,
            "label": backup["label"],
            "type": backup["type"],
            "database_bytes": backup["database_bytes"],
            "bytes_copied": backup["backup_bytes"],
            "repository_bytes": backup["repository_bytes"],
            "wal_start": backup["wal_start"],
        }

    # -- the sections ----------------------------------------------------------------------------

    def full(self) -> dict[str, Any]:
        passfile = self.scratch / "pgpass"
        password = self.stack.passwords()[REPLICATION_USER]
        write_server_file(passfile, f"*:*:*:{REPLICATION_USER}:{password}\n")
        dsn = make_conninfo(
            self.stack.conninfo(self.stack.ports.rw, REPLICATION_USER, "postgres"), passfile=str(passfile)
        )
        forms = {
            "pg_basebackup_plain": ["-Fp"],
            "pg_basebackup_tar_lz4": ["-Ft", "--compress=client-lz4"],
        }
        runs: dict[str, list[dict[str, Any]]] = {"pgbackrest": [], **{name: [] for name in forms}}
        for i in range(1, self.n + 1):
            runs["pgbackrest"].append(self.pgbackrest_backup("full"))
            log(f"full {i}/{self.n} pgbackrest: {json.dumps(runs['pgbackrest'][-1])}")
            for name, options in forms.items():
                out = self.scratch / f"{name}-{i}"
                argv = [str(bindir() / "pg_basebackup"), "-d", dsn, "-D", str(out), "--checkpoint=fast"]
                self.settle()
                result: dict[str, Any] = {}
                try:
                    with timed(result):
                        run(as_server_user([*argv, *options]), "pg_basebackup", timeout=COMMAND_TIMEOUT_S)
                    result["bytes"] = files_bytes(out)
                    wal = "pg_wal" if options[0] == "-Fp" else None
                    result["wal_bytes"] = (
                        files_bytes(out, wal)
                        if wal
                        else sum(p.stat().st_size for p in out.glob("pg_wal.tar*"))
                    )
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                runs[name].append(result)
                log(f"full {i}/{self.n} {name}: {json.dumps(result)}")
        section: dict[str, Any] = {
            "pgbackrest": {
                "seconds": summary([r["seconds"] for r in runs["pgbackrest"]]),
                "cpu_s": summary([r["cpu_s"] for r in runs["pgbackrest"]]),
                "database_bytes": summary([r["database_bytes"] for r in runs["pgbackrest"]], 0),
                "repository_bytes": summary([r["repository_bytes"] for r in runs["pgbackrest"]], 0),
            },
        }
        for name in forms:
            section[name] = {
                "seconds": summary([r["seconds"] for r in runs[name]]),
                "cpu_s": summary([r["cpu_s"] for r in runs[name]]),
                "bytes": summary([r["bytes"] for r in runs[name]], 0),
                "wal_bytes": summary([r["wal_bytes"] for r in runs[name]], 0),
            }
        ours = runs["pgbackrest"]
        section["ratio"] = {}
        for name in forms:
            form = name.removeprefix("pg_basebackup_")
            section["ratio"][f"seconds_vs_{form}"] = ratio(
                median(ours, "seconds"), median(runs[name], "seconds")
            )
            section["ratio"][f"bytes_vs_{form}"] = ratio(
                median(ours, "repository_bytes"), median(runs[name], "bytes")
            )
        section["runs"] = runs
        return section

    def compression(self) -> dict[str, Any]:
        runs: dict[str, list[dict[str, Any]]] = {f"{c}:{level}": [] for c, level in CODECS}
        tool = PgBackRest(self.root)
        for i in range(1, self.n + 1):
            for codec, level in CODECS:
                name = f"{codec}:{level}"
                repo = self.scratch / f"repo-{codec}{level}-{i}"
                option = f"--repo1-path={repo}"
                try:
                    tool.run("stanza-create", option)
                    self.settle()
                    result: dict[str, Any] = {}
                    with timed(result):
                        tool.run(
                            "backup",
                            option,
                            "--type=full",
                            "--no-archive-check",
                            f"--compress-type={codec}",
                            f"--compress-level={level}",
                            timeout=COMMAND_TIMEOUT_S,
                        )
                    backup = PgBackRest(self.root, repo_path=repo).info()["backup"][-1]
                    result["database_bytes"] = backup["info"]["size"]
                    result["repository_bytes"] = backup["info"]["repository"]["size"]
                finally:
                    shutil.rmtree(repo, ignore_errors=True)
                runs[name].append(result)
                log(f"compression {i}/{self.n} {name}: {json.dumps(result)}")
        base = runs["lz4:1"]
        section: dict[str, Any] = {}
        for name, rs in runs.items():
            section[name] = {
                "seconds": summary([r["seconds"] for r in rs]),
                "cpu_s": summary([r["cpu_s"] for r in rs]),
                "repository_bytes": summary([r["repository_bytes"] for r in rs], 0),
                "repository_over_database": round(
                    median(rs, "repository_bytes") / median(rs, "database_bytes"), 4
                ),
                "ratio_to_lz4_1": {
                    "seconds": ratio(median(rs, "seconds"), median(base, "seconds")),
                    "repository_bytes": ratio(
                        median(rs, "repository_bytes"), median(base, "repository_bytes")
                    ),
                },
            }
        section["runs"] = runs
        return section

    def incremental(self) -> dict[str, Any]:
        runs: list[dict[str, Any]] = []
        listings_bytes = int(self.sql("select pg_relation_size('core.listings')"))
        for i in range(1, self.n + 1):
            self.pgbackrest_backup("incr")  # not timed: what changed before is in it
            self.insert_rows(f"bench-incr-{i}-{time.time_ns()}")
            small = self.pgbackrest_backup("incr")
            # one row of the largest table changed, to the same values (no trigger fires for it)
            self.sql(
                "update core.listings set contact_click_count = contact_click_count "
                "where id = (select min(id) from core.listings)"
            )
            one_row = self.pgbackrest_backup("incr")
            runs.append({"small_change": small, "one_listing_row": one_row})
            log(f"incremental {i}/{self.n}: {json.dumps(runs[-1])}")
        section: dict[str, Any] = {"rows_inserted": ROWS, "listings_bytes": listings_bytes}
        for kind in ("small_change", "one_listing_row"):
            rs = [r[kind] for r in runs]
            section[kind] = {
                "seconds": summary([r["seconds"] for r in rs]),
                "bytes_copied": summary([r["bytes_copied"] for r in rs], 0),
                "repository_bytes": summary([r["repository_bytes"] for r in rs], 0),
                "minute_passed": sum(r["minute_passed"] for r in rs),
            }
        section["runs"] = runs
        return section

    def after_switchover(self, same_timeline_incr: dict[str, Any]) -> dict[str, Any]:
        runs: list[dict[str, Any]] = []
        for i in range(1, self.n + 1):
            demoted, standbys = self.wait_healthy()
            read_before = standbys[0]
            before = self.timeline()
            self.insert_rows(f"bench-switchover-{i}-{time.time_ns()}")
            switched = self.bazaar_json("cluster", "switchover")
            leader, standbys = self.wait_healthy()
            read_after = standbys[0]
            self.wait_timeline_above(before)
            log_size = self.backup_log().stat().st_size if self.backup_log().exists() else 0
            incr = self.pgbackrest_backup("incr")
            with self.backup_log().open(errors="replace") as f:
                f.seek(log_size)
                warnings = sorted({line.split("WARN: ", 1)[1].strip() for line in f if "WARN: " in line})
            full = self.pgbackrest_backup("full")
            other = next(n for n in standbys if n != demoted)
            cross = self.cross_node_incr(other, demoted, leader, str(i))
            cross["one_led_the_load"] = self.load_leader in standbys
            one = {
                "from": switched["from"],
                "to": switched["to"],
                "switchover_s": switched["total_s"],
                "timeline": [before, self.timeline()],
                "standby_read": [read_before, read_after],
                "incr": incr,
                "full": full,
                "standby_vs_standby": cross,
                "warnings": warnings,
            }
            runs.append(one)
            log(f"after switchover {i}/{self.n}: {json.dumps(one)}")
        section: dict[str, Any] = {"rows_inserted": ROWS}
        for kind in ("incr", "full"):
            rs = [r[kind] for r in runs]
            section[kind] = {
                "seconds": summary([r["seconds"] for r in rs]),
                "bytes_copied": summary([r["bytes_copied"] for r in rs], 0),
                "repository_bytes": summary([r["repository_bytes"] for r in rs], 0),
            }
        incrs, fulls = [r["incr"] for r in runs], [r["full"] for r in runs]
        section["incr_over_full"] = {
            key: ratio(median(incrs, key), median(fulls, key))
            for key in ("seconds", "bytes_copied", "repository_bytes")
        }
        section["incr_over_same_timeline_incr"] = {
            key: ratio(median(incrs, key), float(same_timeline_incr["small_change"][key]["median"]))
            for key in ("seconds", "bytes_copied", "repository_bytes")
        }
        section["by_standby_read"] = {}
        for label, same in (("same", True), ("changed", False)):
            chosen = [r["incr"] for r in runs if (r["standby_read"][0] == r["standby_read"][1]) == same]
            if chosen:
                section["by_standby_read"][label] = {
                    "count": len(chosen),
                    "incr_seconds": summary([r["seconds"] for r in chosen]),
                    "incr_bytes_copied": summary([r["bytes_copied"] for r in chosen], 0),
                }
        section["load_leader"] = self.load_leader
        section["standby_vs_standby"] = {}
        for label, led in (("one_led_the_load", True), ("neither_led_the_load", False)):
            chosen = [
                r["standby_vs_standby"] for r in runs if r["standby_vs_standby"]["one_led_the_load"] == led
            ]
            if chosen:
                section["standby_vs_standby"][label] = {
                    "count": len(chosen),
                    "incr_seconds": summary([r["seconds"] for r in chosen]),
                    "incr_bytes_copied": summary([r["bytes_copied"] for r in chosen], 0),
                }
        section["switchover_s"] = summary([r["switchover_s"] for r in runs])
        section["warnings"] = sorted({w for r in runs for w in r["warnings"]})
        section["runs"] = runs
        return section

    def restore(self) -> dict[str, Any]:
        runs = []
        for i in range(1, self.n + 1):
            to = self.scratch / f"restore-{i}"
            result: dict[str, Any] = {}
            try:
                with timed(result):
                    answer = self.bazaar_json("backup", "restore", "--to", str(to))
                result["restored_bytes"] = files_bytes(to)
            finally:
                shutil.rmtree(to, ignore_errors=True)
            result["target"] = answer["target"]
            runs.append(result)
            log(f"restore {i}/{self.n}: {json.dumps(result)}")
        return {
            "seconds": summary([r["seconds"] for r in runs]),
            "restored_bytes": summary([r["restored_bytes"] for r in runs], 0),
            "runs": runs,
        }

    def verify(self) -> dict[str, Any]:
        runs = []
        for i in range(1, self.n + 1):
            result: dict[str, Any] = {}
            with timed(result):
                answer = self.bazaar_json("backup", "verify")
            result |= {"own_s": answer["seconds"], "label": answer["label"], "rows": answer["rows"]}
            runs.append(result)
            log(f"verify {i}/{self.n}: {json.dumps(result)}")
        return {
            "seconds": summary([r["seconds"] for r in runs]),
            "own_s": summary([r["own_s"] for r in runs]),
            "rows": runs[-1]["rows"],
            "runs": runs,
        }


def versions(stack: LocalStack) -> dict[str, str]:
    with connect(stack.admin_dsn(), autocommit=True) as conn:
        row = conn.execute("show server_version").fetchone()
    basebackup = run([str(bindir() / "pg_basebackup"), "--version"], "pg_basebackup --version")
    return {
        "pgbackrest": run([settings.PGBACKREST, "version"], "pgbackrest version").stdout.strip(),
        "postgresql": str(row[0]) if row else "unknown",
        "pg_basebackup": basebackup.stdout.strip(),
    }


def configured(root: ServerRoot) -> dict[str, str]:
    """The pgBackRest settings of the stack that the figures depend on (never the passphrase)."""
    wanted = {
        "compress-type",
        "compress-level",
        "process-max",
        "backup-standby",
        "delta",
        "repo1-bundle",
        "repo1-cipher-type",
    }
    found = {}
    for line in settings.conf_path(root).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in wanted:
            found[key.strip()] = value.strip()
    return found


def measure(bench: Bench, scale: float, sections: list[str], started: float) -> dict[str, Any]:
    stack = bench.stack
    log(f"loading demo data: bazaar generate --scale {scale} --if-empty")
    bench.load_leader = bench.wait_healthy()[0]
    bench.bazaar("generate", "--scale", str(scale), "--if-empty")
    drill.prepare(stack.admin_dsn())
    settling = time.monotonic()
    bench.sql(queries.load("vacuum_analyze"))
    bench.settle()
    bench.wait_healthy()
    log(f"vacuum analyze and checkpoint in {time.monotonic() - settling:.1f} s")
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(),
        },
        "scale": scale,
        "n": bench.n,
        "versions": versions(stack),
        "configured": configured(bench.root),
        "database_bytes": {"bazaar": int(bench.sql("select pg_database_size(current_database())"))},
    }
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "full": bench.full,
        "compression": bench.compression,
        "incremental": bench.incremental,
        "after_switchover": lambda: bench.after_switchover(report["incremental"]),
        "restore": bench.restore,
        "verify": bench.verify,
    }
    for name in sections:
        log(f"-- {name}")
        report[name] = steps[name]()
        report[name]["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
        if name == "full":
            report["database_bytes"]["cluster"] = report["full"]["pgbackrest"]["database_bytes"]["median"]
    report["runtime_s"] = round(time.monotonic() - started, 1)
    return report


SECTIONS = ("full", "compression", "incremental", "after_switchover", "restore", "verify")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--scale", type=float, default=0.1, help="bazaar generate --scale (default 0.1)")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated subset of: " + ", ".join(SECTIONS) + " (after_switchover needs incremental)",
    )
    parser.add_argument("--output", type=Path, default=RESULT, help=f"the JSON's file (default {RESULT})")
    parser.add_argument(
        "--running", action="store_true", help="use the running stack of BAZAAR_HOME (set explicitly)"
    )
    args = parser.parse_args()
    if args.n < 1:
        parser.error("-n must be at least 1")
    sections = [s for s in SECTIONS if s in args.sections.split(",")]
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if "after_switchover" in sections and "incremental" not in sections:
        parser.error("after_switchover compares with incremental: run both")
    if args.running and not os.environ.get("BAZAAR_HOME"):
        parser.error("--running changes the stack: name it with BAZAAR_HOME explicitly")

    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="bazaar-bench-backup-"))
    base.chmod(0o755)  # the postgres OS user reaches the scratch directory through it
    own_stack = not args.running
    if own_stack:
        offset = config.free_port_offset()
        stack = LocalStack(base / "var", config.Ports(offset))
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
        env |= {
            "BAZAAR_HOME": str(stack.home),
            "BAZAAR_PORT_OFFSET": str(offset),
            "BAZAAR_BACKUP_SCHEDULE": IDLE_SCHEDULE,
        }
    else:
        stack = LocalStack.from_env()
        env = dict(os.environ)
    bench = Bench(stack, env, make_server_dir(base / "scratch", 0o700), args.n)
    try:
        if own_stack:
            log(f"starting a stack of its own in {base} (port offset {stack.ports.offset})")
            bench.bazaar("up")
            log(f"stack up in {time.monotonic() - started:.1f} s")
        report = measure(bench, args.scale, sections, started)
        text = json.dumps(report, indent=2)
        print(text)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
        log(f"written to {args.output}; {report['runtime_s']} s")
        return 0
    finally:
        if own_stack:
            server = (stack.home / "server").resolve()
            bench.bazaar("down")
            if server.parent == SYSTEM_ROOT:
                shutil.rmtree(server, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
