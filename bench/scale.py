"""Performance at scale (issue 18): the hot paths under pgbench, against a naive schema and against
PostgreSQL's own point-read limit, at each scale; print JSON and a table.

    PYTHONPATH=. .venv/bin/python bench/scale.py [--scales 0.1,1] [--seconds 15] [--clients 4]
        [--output bench/results/scale.json] [--plans bench/results/plans] [--plot docs/bench]

`make bench` runs it with those arguments. Per scale it starts a throwaway PostgreSQL 15 server (the
test harness's: loopback, trust, fsync off; shared_buffers 1GB here), migrates a database, loads
the generator's data (12 months, seed 1), ANALYZEs it, and prepares bench/workload/prepare.sql: the
samples the scripts draw their arguments from, numbered so pgbench picks one by primary key.
Then, one after the other on that quiet server, with --clients clients (-j 2, -M prepared: psycopg
prepares a statement it runs five times) for --seconds each:

- paths: every bench/workload/<path>.sql but the naive_ and card_plain ones, connected as
  `bench_app` (a login role in bazaar_app: only the api). Latency per transaction from pgbench's
  --log (client-side, on loopback: the round trip is part of it) with one client: p50, p95, p99
  in ms, what one call costs the server; then TPS with --clients clients, whose p95
  (clients_p95_ms) adds the wait for a core; failed (clients aborted by an error: must be 0).
  approve runs a fixed count of transactions instead (each approves one pending listing, once).
  One call of each path is run again under auto_explain (ANALYZE, BUFFERS, nested statements)
  and its plans are written to --plans/<scale>/<path>.txt.
- reference: `pgbench -S` on a `pgbench -i -s 10` database of the same server (PostgreSQL's own
  point read), and card_plain.sql: the one statement api.listing_card runs, as a plain query.
  card.tps_ratio_to_select_only and card.tps_ratio_to_plain_query are the issue's two targets
  (>= 0.3 and >= 0.85). The three runs alternate, three rounds, and the medians are compared.
- naive: bench/workload/naive.sql copies the listings into a schema with primary and foreign keys
  only; the naive_<path>.sql scripts ask it the same questions an ORM would (ILIKE, OFFSET), run as
  the superuser, one client. speedup_p95 = naive p95 / ours p95 (both one client).
- matching: the saved-search queue the approvals filled, drained by ops.match_saved_searches one
  listing at a time (as pg_cron does): ms per listing, with the number of saved searches.

--plot writes PNG charts: p95 per path against scale, ours against naive.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bazaar.stack.host import bindir
from bench.common import loaded_database, report

WORKLOAD = Path(__file__).resolve().parent / "workload"
READS = ("card", "feed_first", "feed_next", "search", "part_number", "fitment", "seller_listings")
WRITES = ("favorite", "contact", "chat", "order")
NAIVE = ("feed_first", "feed_next", "search", "part_number", "fitment", "seller_listings")
SAMPLES = (
    "cards",
    "categories",
    "feed_cursors",
    "search_terms",
    "part_numbers",
    "fitments",
    "sellers",
    "people",
    "on_sale",
    "in_stock",
    "pending",
)
FEED_PAGE = 5  # feed_next asks for the page after this many
APPROVALS = 200  # per client
SERVER: dict[str, str | int] = {"shared_buffers": "1GB", "max_connections": 200}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pgbench(dsn: dict[str, str], args: list[str], workdir: Path) -> tuple[str, list[float]]:
    """Run pgbench with --log into WORKDIR; its output, and every transaction's latency in ms."""
    for old in workdir.glob("pgbench_log*"):
        old.unlink()
    argv = [
        str(bindir() / "pgbench"),
        "-h", dsn["host"], "-p", dsn["port"], "-U", dsn["user"], "-n", "-M", "prepared",
        "--log", f"--log-prefix={workdir}/pgbench_log", *args, dsn["dbname"],
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=3600)
    return done.stdout + done.stderr, logged_latencies(workdir)


def logged_latencies(workdir: Path) -> list[float]:
    """Every transaction's latency in ms, from the --log files pgbench wrote into WORKDIR."""
    return [
        int(line.split()[2]) / 1000
        for path in workdir.glob("pgbench_log*")
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def figures(output: str, latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3) if ordered else float("nan")

    tps = re.search(r"^tps = ([\d.]+)", output, re.M)
    aborted = re.search(r"number of failed transactions: (\d+)", output)
    clients_aborted = len(re.findall(r"client \d+ aborted", output))
    return {
        "tps": round(float(tps.group(1))) if tps else 0,
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "transactions": len(ordered),
        "failed": (int(aborted.group(1)) if aborted else 0) + clients_aborted,
        **({"error": output.strip().splitlines()[-1]} if clients_aborted or not tps else {}),
    }


def latency_and_throughput(
    who: dict[str, str], clients: int, script: list[str], workdir: Path
) -> dict[str, Any]:
    """SCRIPT once with one client (the latency of a call on a server with nothing else to do:
    p50/p95/p99), once with CLIENTS (TPS on both cores; its latencies include the wait for a
    core: clients_p95_ms)."""
    out, lat = pgbench(who, ["-c", "1", *script], workdir)
    alone = figures(out, lat)
    out, lat = pgbench(who, ["-c", str(clients), "-j", "2", *script], workdir)
    busy = figures(out, lat)
    errors = [e for e in (alone.get("error"), busy.get("error")) if e]
    return {
        **{k: alone[k] for k in ("p50_ms", "p95_ms", "p99_ms")},
        "tps": busy["tps"],
        "clients_p95_ms": busy["p95_ms"],
        "transactions": alone["transactions"] + busy["transactions"],
        "failed": alone["failed"] + busy["failed"],
        **({"error": errors[0]} if errors else {}),
    }


def prepare(dsn: str) -> dict[str, int]:
    """bench/workload/prepare.sql, the feed cursors, and the count of every sample table."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((WORKLOAD / "prepare.sql").read_text().encode())
        categories = conn.execute("select c.id from bench.categories as c order by c.n").fetchall()
        n = 0
        for (category,) in categories:
            cursor = None
            for _page in range(FEED_PAGE):
                rows = conn.execute(
                    "select next_cursor from api.search(p_category_id => %s, p_cursor => %s, p_limit => 20)",
                    [category, cursor],
                ).fetchall()
                cursor = rows[-1][0] if rows else None
                if cursor is None:
                    break
            if cursor is not None:
                n += 1
                conn.execute(
                    "insert into bench.feed_cursors values (%s, %s, %s, %s)",
                    [n, category, cursor, 20 * FEED_PAGE],
                )
        conn.execute("alter table bench.feed_cursors add primary key (n)")
        conn.execute("analyze")
        counts = {}
        for table in SAMPLES:
            row = conn.execute(f"select count(*) from bench.{table}").fetchone()  # noqa: S608 (our names)
            counts[table] = int(row[0]) if row else 0
        return counts


def explain(dsn: str, path: str, counts: dict[str, int], role: str | None) -> str:
    """One call of PATH's script (each random(1, :x) taken as 1) under auto_explain: every plan."""
    text = (WORKLOAD / f"{path}.sql").read_text()
    sql = "\n".join(line for line in text.splitlines() if not line.startswith(("--", "\\set")))
    sql = re.sub(r"\\gset", "", sql)
    for name in ("n", "p"):
        sql = re.sub(rf":{name}\b", "1", sql)
    sql = re.sub(r":order_id\b", "null", sql)
    plans: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
        for setting in (
            "load 'auto_explain'",
            "set auto_explain.log_min_duration = 0",
            "set auto_explain.log_analyze = on",
            "set auto_explain.log_buffers = on",
            "set auto_explain.log_nested_statements = on",
            "set auto_explain.log_level = notice",
            "set client_min_messages = notice",
        ):
            conn.execute(setting)
        if role:
            conn.execute(f"set role {role}")
        with contextlib.suppress(psycopg.Error):  # approve's pending row may be gone: the plan is the point
            for statement in [s for s in sql.split(";") if s.strip()]:
                conn.execute(statement.encode())
    return "\n\n".join(plans)


def run_scale(scale: float, seconds: int, clients: int, plans_dir: Path | None) -> dict[str, Any]:
    with loaded_database(scale, settings=SERVER) as loaded, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        info = psycopg.conninfo.conninfo_to_dict(loaded.dsn)
        superuser = {k: str(v) for k, v in info.items()}
        app = {**superuser, "user": "bench_app"}
        log(f"scale {scale}: loaded in {loaded.load_s} s; preparing samples")
        counts = prepare(loaded.dsn)
        defines = [f"-D{k}={v}" for k, v in counts.items()]
        common = ["-c", str(clients), "-j", "2"]
        result: dict[str, Any] = {"scale": scale, "load_s": loaded.load_s, "samples": counts, "paths": {}}
        with psycopg.connect(loaded.dsn, autocommit=True) as conn:
            row = conn.execute(
                "select (select count(*) from core.listings), (select count(*) from core.saved_searches), "
                "pg_database_size(current_database())"
            ).fetchone()
            assert row is not None
            result["listings"], result["saved_searches"], result["database_bytes"] = row
            conn.execute("create database pgb")
        pgb = {**superuser, "dbname": "pgb"}
        subprocess.run(
            [str(bindir() / "pgbench"), "-h", pgb["host"], "-p", pgb["port"], "-U", pgb["user"], "-i", "-q",
             "-s", "10", "pgb"],
            capture_output=True, check=True,
        )  # fmt: skip
        for path in (*READS, *WRITES):
            log(f"scale {scale}: {path}")
            script = ["-T", str(seconds), *defines, "-f", str(WORKLOAD / f"{path}.sql")]
            result["paths"][path] = latency_and_throughput(app, clients, script, workdir)
        # each approval takes the next pending listing: a count of them, not a time (one client's
        # share, then every client's)
        per_client = min(APPROVALS, counts["pending"] // (clients + 1))
        log(f"scale {scale}: approve ({per_client} per client)")
        script = ["-t", str(per_client), *defines, "-f", str(WORKLOAD / "approve.sql")]
        result["paths"]["approve"] = latency_and_throughput(app, clients, script, workdir)
        # the reference: alternate select-only, the plain card query and the card, three rounds
        rounds: dict[str, list[dict[str, Any]]] = {"select_only": [], "card_plain": [], "card": []}
        for _round in range(3):
            out, lat = pgbench(pgb, [*common, "-T", str(seconds), "-S"], workdir)
            rounds["select_only"].append(figures(out, lat))
            for name, who in (("card_plain", superuser), ("card", app)):
                file = str(WORKLOAD / f"{name}.sql")
                out, lat = pgbench(who, [*common, "-T", str(seconds), *defines, "-f", file], workdir)
                rounds[name].append(figures(out, lat))
        tps = {name: statistics.median(r["tps"] for r in runs) for name, runs in rounds.items()}
        result["reference"] = {
            "select_only_tps": tps["select_only"],
            "card_plain_tps": tps["card_plain"],
            "card_tps": tps["card"],
            "card_tps_ratio_to_select_only": round(tps["card"] / tps["select_only"], 3)
            if tps["select_only"]
            else None,
            "card_tps_ratio_to_plain_query": round(tps["card"] / tps["card_plain"], 3)
            if tps["card_plain"]
            else None,
            "rounds": rounds,
        }
        log(f"scale {scale}: saved-search matching")
        result["matching"] = drain_matching(loaded.dsn)
        log(f"scale {scale}: naive schema")
        with psycopg.connect(loaded.dsn, autocommit=True) as conn:
            started = time.perf_counter()
            conn.execute((WORKLOAD / "naive.sql").read_text().encode())
            result["naive_copy_s"] = round(time.perf_counter() - started, 1)
        result["naive"] = {}
        for path in NAIVE:
            log(f"scale {scale}: naive {path}")
            file = str(WORKLOAD / f"naive_{path}.sql")
            out, lat = pgbench(superuser, ["-c", "1", "-T", str(seconds), *defines, "-f", file], workdir)
            naive = figures(out, lat)
            ours = result["paths"][path]
            naive["speedup_p95"] = round(naive["p95_ms"] / ours["p95_ms"], 1) if ours["p95_ms"] else None
            result["naive"][path] = naive
        if plans_dir:
            target = plans_dir / f"scale-{scale}"
            target.mkdir(parents=True, exist_ok=True)
            for path in (*READS, *WRITES, "approve"):
                (target / f"{path}.txt").write_text(explain(loaded.dsn, path, counts, "bench_app"))
            for path in NAIVE:
                (target / f"naive_{path}.txt").write_text(explain(loaded.dsn, f"naive_{path}", counts, None))
        return result


def drain_matching(dsn: str) -> dict[str, Any]:
    """Match the queued publications one listing per call, as pg_cron's job does: ms per listing."""
    timings: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            started = time.perf_counter()
            row = conn.execute("select ops.match_saved_searches(1)").fetchone()
            elapsed = (time.perf_counter() - started) * 1000
            if row is None or row[0]["listings"] == 0:
                break
            timings.append(elapsed)
    ordered = sorted(timings)
    return {
        "listings": len(ordered),
        "median_ms_per_listing": round(statistics.median(ordered), 2) if ordered else None,
        "p95_ms_per_listing": round(ordered[int(len(ordered) * 0.95)], 2) if ordered else None,
    }


def table(results: list[dict[str, Any]]) -> str:
    """One table: per path and scale, p95 (ms, one client) and TPS (--clients); then the reference
    and naive figures."""
    lines = ["| path | " + " | ".join(f"p95 ms @ {r['scale']} | TPS @ {r['scale']}" for r in results) + " |"]
    lines.append("|---" * (1 + 2 * len(results)) + "|")
    for path in (*READS, *WRITES, "approve"):
        cells = [f"{r['paths'][path]['p95_ms']} | {r['paths'][path]['tps']}" for r in results]
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "| against naive (p95 ms) | " + " | ".join(f"naive @ {r['scale']} | times" for r in results) + " |"
    )
    lines.append("|---" * (1 + 2 * len(results)) + "|")
    for path in NAIVE:
        cells = [f"{r['naive'][path]['p95_ms']} | {r['naive'][path]['speedup_p95']}" for r in results]
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    lines.append("")
    for r in results:
        ref = r["reference"]
        lines.append(
            f"scale {r['scale']}: pgbench -S {ref['select_only_tps']} TPS, "
            f"plain card query {ref['card_plain_tps']}, api.listing_card {ref['card_tps']}: "
            f"{ref['card_tps_ratio_to_select_only']} of -S, "
            f"{ref['card_tps_ratio_to_plain_query']} of the plain query; "
            f"saved-search matching {r['matching']['median_ms_per_listing']} ms per listing "
            f"against {r['saved_searches']} saved searches"
        )
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], directory: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    scales = [r["scale"] for r in results]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, path in enumerate((*READS, *WRITES, "approve")):
        style = ("-", "--", ":")[i // 10]
        ax.plot(
            scales, [r["paths"][path]["p95_ms"] for r in results], marker="o", linestyle=style, label=path
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("scale (1 = 1M listings)")
    ax.set_ylabel("p95 latency, ms (log)")
    ax.set_title("Hot paths as data grows (pgbench, 4 clients, 2 cores)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(directory / "scale-p95.png", dpi=110)
    plt.close(fig)
    last = results[-1]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = range(len(NAIVE))
    ax.bar([x - 0.2 for x in xs], [last["paths"][p]["p95_ms"] for p in NAIVE], width=0.4, label="bazaar")
    ax.bar(
        [x + 0.2 for x in xs], [last["naive"][p]["p95_ms"] for p in NAIVE], width=0.4, label="naive schema"
    )
    ax.set_yscale("log")
    ax.set_xticks(list(xs), NAIVE, rotation=20, fontsize=8)
    ax.set_ylabel("p95 latency, ms (log)")
    ax.set_title(f"Ours against a textbook schema, scale {last['scale']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(directory / "scale-naive.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="0.1,1")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--output")
    parser.add_argument("--plans", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    started = time.time()
    results = [
        run_scale(float(s), args.seconds, args.clients, args.plans)
        for s in args.scales.split(",")
        if s.strip()
    ]
    summary = {
        "benchmark": "scale",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_at_start": os.getloadavg(),
        },
        "method": {
            "clients": args.clients,
            "seconds": args.seconds,
            "protocol": "prepared",
            "server": SERVER,
        },
        "results": results,
        "seconds": round(time.time() - started),
    }
    report(summary, args.output)
    print(table(results), file=sys.stderr)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
