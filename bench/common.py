"""What the benchmarks on generated data share: a throwaway PostgreSQL 15 server (tests/harness.py)
with a database migrated from the repository and loaded by the generator, and the figures of a
list of timings."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bazaar import config, migrate
from bazaar.stack.host import SYSTEM_ROOT
from bazaar.stack.local import LocalStack
from generator.load import load
from tests.harness import SQL_DIR, throwaway_server


def bazaar(env: dict[str, str], *args: str, timeout: int = 3600) -> None:
    """Run the bazaar CLI with ENV; its output goes to stderr (stdout is a benchmark's JSON alone)."""
    argv = [sys.executable, "-m", "bazaar", *args]
    subprocess.run(argv, env=env, check=True, timeout=timeout, stdout=sys.stderr)


@contextlib.contextmanager
def stack_of_its_own(running: bool) -> Iterator[tuple[LocalStack, dict[str, str]]]:
    """A three-node stack (`bazaar up` in a BAZAAR_HOME under /tmp, a free port offset), and the
    environment that reaches it; stopped and removed afterwards. RUNNING: the stack of
    BAZAAR_HOME / BAZAAR_PORT_OFFSET instead (it must be up), left as it is."""
    if running:
        yield LocalStack.from_env(), dict(os.environ)
        return
    base = Path(tempfile.mkdtemp(prefix="bazaar-bench-"))
    base.chmod(0o755)
    offset = config.free_port_offset()
    stack = LocalStack(base / "var", config.Ports(offset))
    env = {**os.environ, "BAZAAR_HOME": str(stack.home), "BAZAAR_PORT_OFFSET": str(offset)}
    print(
        f"[{time.strftime('%H:%M:%S')}] starting a stack of its own in {base} (port offset {offset})",
        file=sys.stderr,
    )
    started = time.monotonic()
    try:
        bazaar(env, "up", timeout=600)
        print(
            f"[{time.strftime('%H:%M:%S')}] stack up in {time.monotonic() - started:.1f} s", file=sys.stderr
        )
        yield stack, env
    finally:
        server = (stack.home / "server").resolve()
        bazaar(env, "down", timeout=600)
        shutil.rmtree(base, ignore_errors=True)
        if server.parent == SYSTEM_ROOT:
            shutil.rmtree(server, ignore_errors=True)


@dataclass(frozen=True)
class Loaded:
    dsn: str  # the superuser, on the loaded database
    load_s: float


@contextlib.contextmanager
def migrated_database(settings: Mapping[str, str | int] | None = None) -> Iterator[str]:
    """The superuser's DSN of a database `bench` on a throwaway server (the harness's settings,
    overridden by SETTINGS), migrated from the repository."""
    with throwaway_server(settings) as server:
        with server.admin() as admin:
            admin.execute("create database bench")
        dsn = server.dsn("bench")
        with psycopg.connect(dsn, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
        yield dsn


@contextlib.contextmanager
def loaded_database(
    scale: float, months: int = 12, settings: Mapping[str, str | int] | None = None
) -> Iterator[Loaded]:
    """A database `bench` at SCALE (1 = 1M listings), generated as of today and ANALYZEd."""
    with migrated_database(settings) as dsn:
        started = time.perf_counter()
        load(
            dsn,
            scale=scale,
            seed=1,
            as_of=int(time.time()) // 86400 * 86400,
            months=months,
            password=None,
            truncate=False,
            progress=False,
            report=lambda line: print(line, file=sys.stderr),
        )
        load_s = time.perf_counter() - started
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("analyze")
        yield Loaded(dsn, round(load_s, 1))


def figures(samples: list[float]) -> dict[str, float]:
    """Median and p95 (milliseconds) of SAMPLES, and how many."""
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "runs": len(ordered),
    }


def report(result: dict[str, Any], output: str | None) -> None:
    """Print RESULT as JSON, and write it to OUTPUT when given (bench/results/)."""
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if output:
        with open(output, "w") as f:
            f.write(text + "\n")
