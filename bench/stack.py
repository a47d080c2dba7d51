"""The mixed workload through the stack (issue 18): PgBouncer, HAProxy, three Patroni nodes; TPS and
errors at 8, 64 and 1,000 client connections; print JSON.

    PYTHONPATH=. .venv/bin/python bench/stack.py [--scale 0.1] [--clients 8,64,1000] [--seconds 30]
        [--output bench/results/stack.json] [--running] [--plot docs/bench]

It starts a stack of its own (as bench/failover.py: BAZAAR_HOME under /tmp, a free port offset;
`bazaar up`), loads --scale with `bazaar generate`, and prepares the samples the workload scripts
draw from (bench/workload/prepare.sql, as bench/scale.py does). `--running` uses the stack of
BAZAAR_HOME instead (its data must be the generator's, and it gets the bench schema).

Per client count C, two pgbench processes run at once for --seconds, with the weights of
bench/workload/mix.json: the reads with 90% of the clients on PgBouncer's `bazaar_ro` (HAProxy's
read-only port: the two replicas), the writes with the rest on PgBouncer's `bazaar` (the leader,
synchronous replication), both as bazaar_app with its password (SCRAM), `-M extended`: PgBouncer
pools transactions, so no server-side prepared statements. Per side: TPS (without the initial
connection time), p50/p95/p99 latency in ms from pgbench's --log, and errors: failed transactions
plus clients aborted by an error (the target: 0 at 1,000 clients).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bazaar import config
from bazaar.stack.host import bindir
from bazaar.stack.local import LocalStack
from bench.common import bazaar, report, stack_of_its_own
from bench.scale import WORKLOAD, figures, log, logged_latencies, prepare


def side(
    stack: LocalStack,
    dbname: str,
    clients: int,
    seconds: int,
    weights: dict[str, int],
    defines: list[str],
    workdir: Path,
) -> subprocess.Popen[str]:
    """Start one pgbench: CLIENTS connections to PgBouncer's DBNAME running the weighted scripts."""
    scripts = [arg for path, weight in weights.items() for arg in ("-f", f"{WORKLOAD / path}.sql@{weight}")]
    argv = [
        str(bindir() / "pgbench"),
        "-h", "127.0.0.1", "-p", str(stack.ports.pgbouncer), "-U", "bazaar_app", "-n", "-M", "extended",
        "-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds),
        "--log", f"--log-prefix={workdir}/pgbench_log", *defines, *scripts, dbname,
    ]  # fmt: skip
    env = {**os.environ, "PGPASSFILE": str(stack.pgpass), "PGCONNECT_TIMEOUT": "30"}
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def run(stack: LocalStack, clients: int, seconds: int, counts: dict[str, int]) -> dict[str, Any]:
    mix = json.loads((WORKLOAD / "mix.json").read_text())
    readers = max(1, round(clients * mix["read_share"]))
    writers = max(1, clients - readers)
    defines = [f"-D{k}={v}" for k, v in counts.items()]
    result: dict[str, Any] = {"clients": clients}
    with tempfile.TemporaryDirectory() as reads_dir, tempfile.TemporaryDirectory() as writes_dir:
        started = {
            "reads": (
                side(stack, config.READ_ONLY_POOL, readers, seconds, mix["reads"], defines, Path(reads_dir)),
                reads_dir,
            ),
            "writes": (
                side(stack, config.DATABASE, writers, seconds, mix["writes"], defines, Path(writes_dir)),
                writes_dir,
            ),
        }
        for name, (process, directory) in started.items():
            output, _ = process.communicate(timeout=seconds + 600)
            result[name] = {
                "clients": readers if name == "reads" else writers,
                **figures(output, logged_latencies(Path(directory))),
            }
    result["tps"] = result["reads"]["tps"] + result["writes"]["tps"]
    result["errors"] = result["reads"]["failed"] + result["writes"]["failed"]
    return result


def plot(runs: list[dict[str, Any]], directory: Path) -> None:
    """TPS (reads, writes) and errors against the number of clients: PNG in DIRECTORY."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    clients = [r["clients"] for r in runs]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(clients, [r["reads"]["tps"] for r in runs], marker="o", label="reads (replicas)")
    ax.plot(clients, [r["writes"]["tps"] for r in runs], marker="o", label="writes (leader)")
    ax.plot(clients, [r["errors"] for r in runs], marker="x", linestyle=":", label="errors")
    ax.set_xscale("log")
    ax.set_xlabel("client connections (PgBouncer)")
    ax.set_ylabel("transactions per second")
    ax.set_title("The mixed workload through PgBouncer and HAProxy (3 nodes, 2 cores)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(directory / "stack-tps.png", dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--clients", default="8,64,1000")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--output")
    parser.add_argument("--running", action="store_true", help="use the running stack of BAZAAR_HOME")
    parser.add_argument("--plot", type=Path, help="write stack-tps.png there")
    args = parser.parse_args()
    # a thousand pgbench connections need a thousand files (and so does PgBouncer: supervisord's minfds)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with stack_of_its_own(args.running) as (stack, env):
        if not args.running:
            log(f"loading scale {args.scale}")
            bazaar(env, "generate", "--scale", str(args.scale))
        log("preparing the samples")
        counts = prepare(stack.admin_dsn())
        with psycopg.connect(stack.admin_dsn(), autocommit=True) as conn:
            row = conn.execute("select count(*) from core.listings").fetchone()
        runs = []
        for clients in (int(c) for c in args.clients.split(",") if c.strip()):
            log(f"{clients} clients for {args.seconds} s")
            runs.append(run(stack, clients, args.seconds, counts))
            log(f"  {runs[-1]['tps']} TPS, {runs[-1]['errors']} errors")
        summary = {
            "benchmark": "stack",
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
            "scale": args.scale,
            "listings": row[0] if row else None,
            "seconds": args.seconds,
            "mix": json.loads((WORKLOAD / "mix.json").read_text()),
            "runs": runs,
        }
        report(summary, args.output)
        for r in runs:
            print(
                f"{r['clients']:>5} clients: {r['tps']} TPS, {r['errors']} errors; reads p95 "
                f"{r['reads']['p95_ms']} ms, writes p95 {r['writes']['p95_ms']} ms",
                file=sys.stderr,
            )
        if args.plot:
            plot(runs, args.plot)
        return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
