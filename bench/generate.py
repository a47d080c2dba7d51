"""Generator benchmark: `bazaar generate`'s loader against `pgbench -i` on one server, print JSON.

    PYTHONPATH=. .venv/bin/python bench/generate.py [--scales 0.1,1] [--repeat N] [--seed 1]
        [--output bench/results/generate-0.1.json]

It starts a throwaway PostgreSQL 15 server of its own, the test harness's (tests/harness.py: a free
loopback port, trust authentication, fsync, synchronous_commit and full_page_writes off), and
removes it afterwards. The JSON gives the settings that matter under "server": absolute figures
hold for this configuration, the ratio is what carries to another. Each timed run gets a new
database, a CHECKPOINT before it (no dirty buffers left from the previous run) and is dropped
after it. Progress goes to stderr, the JSON alone to stdout (and to --output when given).

Per scale (--repeat times each, default 3 below scale 1 and 1 from it):

- ours: a database migrated with bazaar.migrate (not timed: "migrate_s" is for information),
  then generator.load.load(scale, seed, as_of = the start of this UTC day, 12 months), timed by
  the loader itself: generation, COPY, keys, indexes, foreign keys, commit, ANALYZE.
  rows: every row it loaded (the same in every run: same seed and as_of, same data);
  seconds: the median of the runs' totals ("runs_s" lists them all); rows_per_s = rows / seconds.
  From the median run (the middle one when sorted by seconds; with an even count, the lower
  middle): per table its rows, seconds from its "begin" to its "end" in the generator's stream
  (COPY waits for the generator, which may be producing later tables meanwhile: a small table
  can show many seconds and few rows/s), those rows_per_s, and index_seconds (its keys,
  indexes and the foreign keys it completes); copy_seconds and index_seconds: their sums;
  "steps": commit and analyze; "other_s": the rest of the total (partitions, truncate,
  dropping keys, starting the generator); database_bytes: pg_database_size after the load;
  cpu_s: CPU seconds of the loader (this process), the generator (its child) and the server
  (all its processes, read from /proc; approximate) during the load.
- pgbench: `pgbench -i -q -s S` into a new empty database, S = max(1, round(our rows / 100,000)),
  the scale at which pgbench loads about as many rows (100,000 pgbench_accounts + 10 tellers +
  1 branch per unit). rows: those it loads; seconds: the median of the wall-clock times around
  the whole command (table creation, client-side generate, VACUUM ANALYZE, primary keys, and
  starting the process); rows_per_s = rows / seconds; "done_in": pgbench's own "done in ..."
  line of the median run, parsed (seconds per phase); database_bytes as above; cpu_s: of
  pgbench and the server during the command.
  pgbench runs with the server's maintenance_work_mem; our loader sets 512MB for its transaction.
- ratio_rows_per_s: ours rows_per_s / pgbench rows_per_s (above 1: we load rows faster).
  Our rows are wider than pgbench's (text, jsonb, tsvector; many indexes and foreign keys), so
  the comparison is with the plainest bulk load PostgreSQL ships, not with an equal task.

Runs alternate, ours then pgbench, so a drift of the machine's speed touches both alike.
"machine" gives os.cpu_count() and the load average at the start, and each side lists the
1-minute load average after each run ("loadavg_1m_after"): the loader keeps two processes
busy (generator, COPY) plus the server's backend, so on a small machine anything else running
shows in its time; a load average well above what the benchmark itself makes means a busy
machine, and figures to take again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from bazaar import migrate
from generator.load import load
from tests.harness import SQL_DIR, ServerUnderTest, throwaway_server

MONTHS = 12
PGBENCH_ROWS_PER_SCALE = 100_000 + 10 + 1  # pgbench_accounts, pgbench_tellers, pgbench_branches
PGBENCH_TIMEOUT_S = 3600
SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "maintenance_work_mem",
    "work_mem",
    "max_parallel_maintenance_workers",
)
DONE_IN = re.compile(r"done in ([0-9.]+) s \(([^)]*)\)")
PHASE = re.compile(r"^(.+) ([0-9.]+) s$")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def process_cpu(pid: int) -> float:
    """CPU seconds of PID and of its children it has waited for (0 when it has just gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime


def server_cpu(server: ServerUnderTest) -> float:
    """CPU seconds of the whole server: the postmaster (whose waited-for children are the backends
    that have exited) and its live children (backends, checkpointer, walwriter, ...)."""
    pid = server.node.pid()
    assert pid is not None, "the server is not running"
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return process_cpu(pid) + sum(process_cpu(int(child)) for child in children)


class CpuMeter:
    """CPU seconds spent between start and stop: by this process (the loader's COPY, or nothing
    while pgbench runs), by its waited-for children (the generator process, or pgbench) and by
    the server. The server's share is approximate: a backend that exits between the two reads
    of /proc is missed."""

    def __init__(self, server: ServerUnderTest) -> None:
        self.server = server
        self.start = self.read()

    def read(self) -> tuple[float, float, float]:
        t = os.times()
        return t.user + t.system, t.children_user + t.children_system, server_cpu(self.server)

    def stop(self, own: str, children: str) -> dict[str, float]:
        end = self.read()
        own_s, children_s, server_s = (round(b - a, 2) for a, b in zip(self.start, end, strict=True))
        return {own: own_s, children: children_s, "server": server_s}


def median_run(runs: list[T], seconds: Callable[[T], float]) -> T:
    """The middle run by seconds (the lower middle of an even count): one run's own figures."""
    return sorted(runs, key=seconds)[(len(runs) - 1) // 2]


@contextmanager
def fresh_database(server: ServerUnderTest, prefix: str) -> Iterator[str]:
    """A new empty database after a CHECKPOINT; its name, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with server.admin() as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        conn.execute("checkpoint")
    try:
        yield name
    finally:
        with server.admin() as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def database_bytes(server: ServerUnderTest, name: str) -> int:
    with server.admin() as conn:
        row = conn.execute("select pg_database_size(%s)", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def ours_once(server: ServerUnderTest, scale: float, seed: int, as_of: int) -> dict[str, Any]:
    with fresh_database(server, "bench_ours") as name:
        dsn = server.dsn(name)
        started = time.perf_counter()
        with psycopg.connect(dsn, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
        migrated = time.perf_counter() - started
        # the migration's work must not be written out during the timed load
        with server.admin() as conn:
            conn.execute("checkpoint")
        meter = CpuMeter(server)
        summary = load(
            dsn,
            scale=scale,
            seed=seed,
            as_of=as_of,
            months=MONTHS,
            password=None,
            truncate=False,
            progress=False,
            report=log,
        )
        result = summary.as_dict()
        result["cpu_s"] = meter.stop("loader", "generator")
        result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
        result["seconds"] = summary.seconds  # unrounded: the median is taken from these
        result["migrate_s"] = round(migrated, 2)
        result["database_bytes"] = database_bytes(server, name)
    return result


def parse_done_in(output: str) -> dict[str, float]:
    """pgbench's "done in 1.23 s (drop tables 0.00 s, ..., primary keys 0.20 s)." as seconds by phase."""
    match = DONE_IN.search(output)
    if match is None:
        raise RuntimeError(f"no 'done in' line in pgbench's output:\n{output}")
    phases = {"total_s": float(match.group(1))}
    for part in match.group(2).split(", "):
        phase = PHASE.match(part.strip())
        if phase is not None:
            phases[phase.group(1).replace(" ", "_").replace("-", "_") + "_s"] = float(phase.group(2))
    return phases


def pgbench_once(server: ServerUnderTest, pgbench_scale: int) -> dict[str, Any]:
    with fresh_database(server, "bench_pgbench") as name:
        argv = ["pgbench", "-i", "-q", "-s", str(pgbench_scale)]
        argv += ["-h", "127.0.0.1", "-p", str(server.node.port), "-U", "postgres", name]
        meter = CpuMeter(server)
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=PGBENCH_TIMEOUT_S)
        seconds = time.perf_counter() - started
        cpu = meter.stop("this_process", "pgbench")
        if done.returncode != 0:
            raise RuntimeError(f"pgbench -i failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return {
            "seconds": seconds,
            "done_in": parse_done_in(done.stdout + done.stderr),
            "cpu_s": cpu,
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "database_bytes": database_bytes(server, name),
        }


def bench_scale(server: ServerUnderTest, scale: float, repeat: int, seed: int, as_of: int) -> dict[str, Any]:
    ours: list[dict[str, Any]] = []
    bench: list[dict[str, Any]] = []
    pgbench_scale = 0
    for i in range(1, repeat + 1):
        run = ours_once(server, scale, seed, as_of)
        log(
            f"scale {scale} ours {i}/{repeat}: {run['rows']:,} rows in {run['seconds']:.2f} s "
            f"({run['rows_per_s']:,} rows/s; migrate {run['migrate_s']} s)"
        )
        if ours and run["rows"] != ours[0]["rows"]:
            raise RuntimeError(
                f"run {i} loaded {run['rows']} rows, run 1 {ours[0]['rows']}: not deterministic"
            )
        ours.append(run)
        pgbench_scale = max(1, round(ours[0]["rows"] / 100_000))
        other = pgbench_once(server, pgbench_scale)
        log(
            f"scale {scale} pgbench -i -s {pgbench_scale} {i}/{repeat}: {other['seconds']:.2f} s "
            f"(pgbench: {json.dumps(other['done_in'])})"
        )
        bench.append(other)

    rows = int(ours[0]["rows"])
    seconds = statistics.median(r["seconds"] for r in ours)
    middle = median_run(ours, lambda r: float(r["seconds"]))
    steps = {s["step"]: s for s in middle["steps"]}
    tables = [s for s in middle["steps"] if s["step"] not in ("commit", "analyze")]
    accounted = sum(s["seconds"] + s["index_seconds"] for s in middle["steps"])
    ours_report: dict[str, Any] = {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "runs_s": [round(r["seconds"], 2) for r in ours],
        "migrate_s": [r["migrate_s"] for r in ours],
        "loadavg_1m_after": [r["loadavg_1m_after"] for r in ours],
        "median_run": {
            "seconds": round(middle["seconds"], 2),
            "copy_seconds": round(sum(t["seconds"] for t in tables), 2),
            "index_seconds": round(sum(t["index_seconds"] for t in tables), 2),
            "steps": {name: steps[name]["seconds"] for name in ("commit", "analyze") if name in steps},
            "other_s": round(middle["seconds"] - accounted, 2),
            "cpu_s": middle["cpu_s"],
            "database_bytes": middle["database_bytes"],
            "tables": [
                {
                    "table": t["step"],
                    "rows": t["rows"],
                    "seconds": t["seconds"],
                    "rows_per_s": t["rows_per_s"],
                    "index_seconds": t["index_seconds"],
                }
                for t in tables
            ],
        },
    }
    pgbench_rows = pgbench_scale * PGBENCH_ROWS_PER_SCALE
    pgbench_seconds = statistics.median(r["seconds"] for r in bench)
    pgbench_middle = median_run(bench, lambda r: float(r["seconds"]))
    pgbench_report: dict[str, Any] = {
        "scale": pgbench_scale,
        "rows": pgbench_rows,
        "seconds": round(pgbench_seconds, 2),
        "rows_per_s": round(pgbench_rows / pgbench_seconds),
        "runs_s": [round(r["seconds"], 2) for r in bench],
        "loadavg_1m_after": [r["loadavg_1m_after"] for r in bench],
        "done_in": pgbench_middle["done_in"],
        "cpu_s": pgbench_middle["cpu_s"],
        "database_bytes": pgbench_middle["database_bytes"],
    }
    return {
        "scale": scale,
        "repeat": repeat,
        "ours": ours_report,
        "pgbench": pgbench_report,
        "ratio_rows_per_s": round(ours_report["rows_per_s"] / pgbench_report["rows_per_s"], 3),
    }


def server_facts(server: ServerUnderTest) -> dict[str, Any]:
    with server.admin() as conn:
        version = conn.execute("show server_version").fetchone()
        settings = conn.execute(
            "select name, current_setting(name) from unnest(%s::text[]) with ordinality as s(name, n) "
            "order by n",
            (list(SETTINGS),),
        ).fetchall()
    assert version is not None
    return {"version": version[0], "settings": dict(settings)}


def parse_scales(text: str) -> list[float]:
    scales = [float(s) for s in text.split(",") if s.strip()]
    if not scales or any(not 0.001 <= s <= 100 for s in scales):
        raise argparse.ArgumentTypeError(f"{text!r}: scales between 0.001 and 100, comma-separated")
    return scales


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales", type=parse_scales, default=[0.1], help="comma-separated generator scales (default 0.1)"
    )
    parser.add_argument(
        "--repeat", type=int, help="runs per scale, each side (default 3 below scale 1, 1 from scale 1)"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--output", type=Path, help="also write the JSON to this file")
    args = parser.parse_args()
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")

    as_of = int(time.time()) // 86_400 * 86_400
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu_count": os.cpu_count(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "seed": args.seed,
        "as_of": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(as_of)),
        "months": MONTHS,
    }
    started = time.monotonic()
    with throwaway_server() as server:
        log(f"throwaway server on port {server.node.port} ({server.base})")
        report["server"] = server_facts(server)
        version = subprocess.run(["pgbench", "--version"], capture_output=True, text=True, check=True)
        report["pgbench_version"] = version.stdout.strip()
        report["results"] = []
        for scale in args.scales:
            repeat = args.repeat if args.repeat is not None else (3 if scale < 1 else 1)
            result = bench_scale(server, scale, repeat, args.seed, as_of)
            log(
                f"scale {scale}: ours {result['ours']['rows_per_s']:,} rows/s, pgbench "
                f"{result['pgbench']['rows_per_s']:,} rows/s, ratio {result['ratio_rows_per_s']}"
            )
            report["results"].append(result)
    log(f"done in {time.monotonic() - started:.0f} s")
    text = json.dumps(report, indent=2)
    print(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
