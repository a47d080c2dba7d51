"""Failover benchmark: repeat each drill N times against a real three-node stack, print JSON.

    PYTHONPATH=. .venv/bin/python bench/failover.py [-n 10] [--drills node-crash,switchover,...]

By default it starts a stack of its own (BAZAAR_HOME under /tmp, a free port offset) and removes it
afterwards; `--running` uses the stack of BAZAAR_HOME / BAZAAR_PORT_OFFSET instead (it must be up).

Each run: wait until the cluster is healthy (a leader, two streaming replicas, HAProxy agreeing),
start a writer committing a numbered row every 50 ms, inject the fault, wait for 60 writes
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
  etcd-loss           stop the etcd member leading the raft group, then the other two for longer
                      than ttl + retry_timeout, then start them (drill.lose_dcs); writer on
                      PgBouncer. Also: the most nodes that took writes at once (1, or split brain).

--table prints the drills' summary as a Markdown table (fault, trials, lost, longest time without
writes, failed requests, result) to stderr and puts it in the JSON; --plot DIR draws the first
trial of each drill: acknowledged writes per 100 ms around the fault (DIR/drill-NAME.png).
`make drills` runs node-crash 20 times in a row (the crash loop), switchover 20, etcd-loss 3.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bazaar import drill
from bazaar.stack.cluster import Cluster
from bazaar.stack.local import LocalStack
from bazaar.stack.patroni import TIMING
from bench.common import stack_of_its_own
from tests.marketplace import Client, mixed_workload, part_on_sale, signed_up

DRILLS = ("node-crash", "postgres-crash", "switchover", "switchover-no-pause", "etcd-loss")
ACKS = 60  # writes before and after the fault: 3 s each side of the timeline
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


@dataclass(frozen=True)
class Load:
    """What runs through each trial besides the fault: the drill writer's route (None: PgBouncer
    for switchovers and the DCS, HAProxy's rw port for crashes) and the mixed workload."""

    via: str | None = None
    clients: Callable[[], list[Client]] | None = None


def one_run(stack: LocalStack, cluster: Cluster, name: str, load: Load) -> dict[str, Any]:
    members = cluster.wait_healthy(HEALTHY_TIMEOUT_S)
    leader = next(m.name for m in members if m.role == "leader")
    pooled = name.startswith("switchover") or name == "etcd-loss"
    main = drill.Writer(writer_dsn(stack, load.via or ("pgbouncer" if pooled else "rw"))).start()
    side = drill.Writer(writer_dsn(stack, "rw")).start() if name.startswith("switchover") else None
    clients = load.clients() if load.clients else []
    threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
    for t in threads:
        t.start()
    extra: dict[str, Any] = {}
    try:
        main.wait_for_acks_after(time.monotonic(), ACKS, 60)
        fault_at = time.monotonic()
        if name == "node-crash":
            fault_at = cluster.kill(leader, down_for=TIMING.ttl + 10)["at_monotonic"]
        elif name == "postgres-crash":
            fault_at = cluster.kill(leader, postgres_only=True)["at_monotonic"]
        elif name == "etcd-loss":
            lost = drill.lose_dcs(cluster, main)
            fault_at = lost["at_monotonic"]
            extra["most_writable"] = max(lost["most_writable"].values())
            extra["dcs_lost_s"] = lost["dcs_lost_s"]
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
        for c in clients:
            c.stop.set()
        for t in threads:
            t.join(timeout=60)
    if clients:
        calls = [call for c in clients for call in c.calls]
        extra["requests"] = len(calls)
        extra["failed_requests"] = sum(1 for _, error in calls if error)
        extra["longest_request_s"] = round(max(seconds for seconds, _ in calls), 3)
        extra["request_errors"] = sorted({error for _, error in calls if error})[:5]
    admin = stack.admin_dsn(drill.DRILL_DATABASE)
    outcome = drill.outcome(main, fault_at, drill.stored(admin, main.run)).as_dict()
    # PgBouncer handing a client a server connection to a demoted leader (issue 19)
    extra["read_only_errors"] = len(main.read_only_errors())
    extra["timeline"] = drill.timeline(main, fault_at)
    if side is not None:
        side_outcome = drill.outcome(side, fault_at, drill.stored(admin, side.run))
        extra["rw_port_errors"] = side_outcome.errors
        extra["rw_port_lost"] = side_outcome.lost
    new_leader = cluster.patroni.leader_name()
    return {"from": leader, "to": new_leader, **outcome, **extra}


def run_drill(stack: LocalStack, cluster: Cluster, name: str, n: int, load: Load) -> dict[str, Any]:
    runs = []
    for i in range(1, n + 1):
        run = one_run(stack, cluster, name, load)
        log(f"{name} {i}/{n}: {json.dumps({k: v for k, v in run.items() if k != 'timeline'})}")
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
    result["read_only_errors"] = sum(r["read_only_errors"] for r in runs)
    if "requests" in runs[0]:
        result["requests"] = sum(r["requests"] for r in runs)
        result["failed_requests"] = sum(r["failed_requests"] for r in runs)
        result["longest_request_s"] = summary([r["longest_request_s"] for r in runs])
    if name == "etcd-loss":
        result["most_writable"] = max(r["most_writable"] for r in runs)
    for run in runs[1:]:
        del run["timeline"]  # the first trial's is drawn (plot); the others would only fill the JSON
    result["runs"] = runs
    return result


def failed_requests(result: dict[str, Any]) -> int:
    """The drill writer's failed writes and the mixed workload's failed calls."""
    return int(result["errors"]) + int(result.get("failed_requests", 0))


def passed(name: str, result: dict[str, Any]) -> bool:
    """No acknowledged write lost, never two writable nodes, and for what clients must not notice
    (a paused switchover, the DCS lost) no failed request at all."""
    quiet = name in ("switchover", "etcd-loss")
    return (
        result["lost"] == 0
        and result.get("most_writable", 1) <= 1
        and (not quiet or failed_requests(result) == 0)
    )


def table(report: dict[str, Any]) -> str:
    rows = [
        "| fault | trials | acknowledged writes lost | longest time without writes "
        "| failed requests | result |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in report["drills"].items():
        gap = result["longest_gap_s"]
        rows.append(
            f"| {name} | {result['n']} | {result['lost']} | {gap['median']} s median, {gap['max']} s max "
            f"| {failed_requests(result)} "
            f"| {'pass' if passed(name, result) else '**FAIL**'} |"
        )
    return "\n".join(rows)


def plot(report: dict[str, Any], directory: Path) -> None:
    """drill-NAME.png per drill: its first trial's acknowledged writes per 100 ms around the fault."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    for name, result in report["drills"].items():
        counts = result["runs"][0]["timeline"]
        last = max((i for i, c in enumerate(counts) if c), default=len(counts) - 1)
        counts = counts[: last + 10]  # up to a second after the last write drawn
        seconds = [i * 0.1 - 5 for i in range(len(counts))]
        fig, ax = plt.subplots(figsize=(8, 2.6))
        ax.bar(seconds, counts, width=0.1, align="edge", color="#3b7dd8")
        ax.axvline(0, color="#c0392b", linewidth=1)
        ax.set_xlabel("seconds from the fault")
        ax.set_ylabel("writes / 100 ms")
        ax.set_title(f"{name}: acknowledged writes around the fault (first trial)")
        fig.tight_layout()
        fig.savefig(directory / f"drill-{name}.png", dpi=110)
        plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=10, help="runs per drill (default 10)")
    parser.add_argument(
        "--drills", default=",".join(DRILLS), help="comma-separated subset of: " + ", ".join(DRILLS)
    )
    parser.add_argument("--running", action="store_true", help="use the running stack of BAZAAR_HOME")
    parser.add_argument(
        "--counts", default="", help="runs per drill, overriding -n: node-crash=20,etcd-loss=3"
    )
    parser.add_argument("--table", action="store_true", help="print the summary table (Markdown) to stderr")
    parser.add_argument("--plot", type=Path, help="directory for the drills' PNG timelines")
    parser.add_argument("--via", choices=("rw", "pgbouncer"), help="the drill writer's route for every drill")
    parser.add_argument(
        "--workload",
        action="store_true",
        help="run the mixed workload (orders, price edits, chat) through PgBouncer during every trial",
    )
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
        counts = dict(item.split("=") for item in args.counts.split(",") if item)
        with contextlib.ExitStack() as scope:
            load = Load(via=args.via)
            if args.workload:
                market = scope.enter_context(signed_up(stack.admin_dsn(), stack.dsn(), 2))
                with psycopg.connect(stack.dsn(), autocommit=True, prepare_threshold=None) as conn:
                    listing = part_on_sale(
                        conn, market.seller, market.moderator, "Drill pads", "DRILL-1", 100000
                    )
                load = Load(args.via, lambda: mixed_workload(stack.dsn(), market, listing))
                report["workload"] = "orders placed and cancelled, price edits, chat; through PgBouncer"
            for name in drills:
                report["drills"][name] = run_drill(stack, cluster, name, int(counts.get(name, args.n)), load)
        report["table"] = table(report)
        if args.table:
            print(report["table"], file=sys.stderr)
        if args.plot:
            plot(report, args.plot)
        print(json.dumps(report, indent=2))
        return 0 if all(passed(n, r) for n, r in report["drills"].items()) else 1


if __name__ == "__main__":
    sys.exit(main())
