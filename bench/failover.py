"""Failover benchmark: repeat each drill N times against a real three-node stack, print JSON.

    PYTHONPATH=. .venv/bin/python bench/failover.py [-n 10] [--drills node-crash,switchover,...]

By default it starts a stack of its own (BAZAAR_HOME under /tmp, a free port offset) and removes it
afterwards; `--running` uses the stack of BAZAAR_HOME / BAZAAR_PORT_OFFSET instead (it must be up).

Each run: wait until the cluster is healthy (a leader, two streaming replicas, HAProxy agreeing),
start a writer committing a numbered row every 50 ms, inject the fault, wait for 20 writes
after it, compare the acknowledged rows with what the new leader holds. Per drill:

- longest_gap_s: the longest time without an acknowledged write around the fault, and
  longest_commit_s: the slowest single write (what a client held by a PgBouncer pause waits);
- rto_s: fault -> first acknowledged write started after it (median, p95, max; p95 is the
  nearest-rank percentile: with N = 10 it is the largest of the ten);
- errors: failed write attempts the client saw; ambiguous: failed attempts whose row is stored
  all the same (the commit happened, the client was not told); lost: acknowledged rows missing
  afterwards (must be 0).

Drills:
  node-crash          SIGKILL the leader's Patroni and PostgreSQL; the node stays down ttl + 10 s.
  postgres-crash      SIGKILL the leader's PostgreSQL only; Patroni stays.
  switchover          `bazaar cluster switchover` (PgBouncer paused) with the writer on PgBouncer;
                      a second writer on HAProxy's rw port shows what an unpooled client sees.
  switchover-no-pause the same switchover without the pause: the baseline of this run.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Any

from bazaar import drill
from bazaar.stack.cluster import Cluster
from bazaar.stack.local import LocalStack
from bazaar.stack.patroni import TIMING
from bench.common import stack_of_its_own

DRILLS = ("node-crash", "postgres-crash", "switchover", "switchover-no-pause")
ACKS = 20
HEALTHY_TIMEOUT_S = 180
RESUME_TIMEOUT_S = 120


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(ordered[rank - 1], 2),
        "max": round(ordered[-1], 2),
    }


def writer_dsn(stack: LocalStack, via: str) -> str:
    if via == "pgbouncer":
        return stack.dsn(drill.WRITER_ROLE, drill.DRILL_DATABASE)
    return stack.conninfo(stack.ports.rw, drill.WRITER_ROLE, drill.DRILL_DATABASE)


def one_run(stack: LocalStack, cluster: Cluster, name: str) -> dict[str, Any]:
    members = cluster.wait_healthy(HEALTHY_TIMEOUT_S)
    leader = next(m.name for m in members if m.role == "leader")
    pooled = name.startswith("switchover")
    main = drill.Writer(writer_dsn(stack, "pgbouncer" if pooled else "rw")).start()
    side = drill.Writer(writer_dsn(stack, "rw")).start() if pooled else None
    extra: dict[str, Any] = {}
    try:
        main.wait_for_acks_after(time.monotonic(), ACKS, 60)
        fault_at = time.monotonic()
        if name == "node-crash":
            fault_at = cluster.kill(leader, down_for=TIMING.ttl + 10)["at_monotonic"]
        elif name == "postgres-crash":
            fault_at = cluster.kill(leader, postgres_only=True)["at_monotonic"]
        else:
            result = cluster.switchover(pause_pgbouncer=name == "switchover")
            extra["paused_s"] = result["paused_s"]
            extra["switchover_s"] = result["total_s"]
        main.wait_for_acks_after(fault_at, ACKS, RESUME_TIMEOUT_S)
        if side is not None:
            side.wait_for_acks_after(fault_at, ACKS, RESUME_TIMEOUT_S)
    finally:
        main.stop()
        if side is not None:
            side.stop()
    admin = stack.admin_dsn(drill.DRILL_DATABASE)
    outcome = drill.outcome(main, fault_at, drill.stored(admin, main.run)).as_dict()
    if side is not None:
        side_outcome = drill.outcome(side, fault_at, drill.stored(admin, side.run))
        extra["rw_port_errors"] = side_outcome.errors
        extra["rw_port_lost"] = side_outcome.lost
    new_leader = cluster.patroni.leader_name()
    return {"from": leader, "to": new_leader, **outcome, **extra}


def run_drill(stack: LocalStack, cluster: Cluster, name: str, n: int) -> dict[str, Any]:
    runs = []
    for i in range(1, n + 1):
        run = one_run(stack, cluster, name)
        log(f"{name} {i}/{n}: {json.dumps(run)}")
        runs.append(run)
    result: dict[str, Any] = {
        "n": n,
        "rto_s": summary([r["rto_s"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
        "ambiguous": sum(r["ambiguous"] for r in runs),
        "lost": sum(r["lost"] for r in runs),
        "longest_commit_s": summary([r["longest_commit_s"] for r in runs]),
        "longest_gap_s": summary([r["longest_gap_s"] for r in runs]),
    }
    if name.startswith("switchover"):
        if name == "switchover":
            result["paused_s"] = summary([r["paused_s"] for r in runs])
        result["switchover_s"] = summary([r["switchover_s"] for r in runs])
        result["rw_port_errors"] = sum(r["rw_port_errors"] for r in runs)
        result["rw_port_lost"] = sum(r["rw_port_lost"] for r in runs)
    result["runs"] = runs
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=10, help="runs per drill (default 10)")
    parser.add_argument(
        "--drills", default=",".join(DRILLS), help="comma-separated subset of: " + ", ".join(DRILLS)
    )
    parser.add_argument("--running", action="store_true", help="use the running stack of BAZAAR_HOME")
    args = parser.parse_args()
    drills = [d for d in args.drills.split(",") if d]
    unknown = set(drills) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")

    with stack_of_its_own(args.running) as (stack, _env):
        cluster = stack.cluster()
        drill.prepare(stack.admin_dsn())
        report: dict[str, Any] = {
            "timing": {
                "ttl": TIMING.ttl,
                "loop_wait": TIMING.loop_wait,
                "retry_timeout": TIMING.retry_timeout,
                "primary_start_timeout": TIMING.primary_start_timeout,
            },
            "writer_interval_s": drill.INTERVAL_S,
            "drills": {},
        }
        for name in drills:
            report["drills"][name] = run_drill(stack, cluster, name, args.n)
        print(json.dumps(report, indent=2))
        lost = sum(d["lost"] for d in report["drills"].values())
        return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
