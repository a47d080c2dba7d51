"""Delivery benchmark: notifications delivered per second by 1, 2 and 4 workers against a provider
that answers in a fixed 20 ms, and the queue-to-delivery latency; print JSON.

    PYTHONPATH=. .venv/bin/python bench/delivery.py [--notifications 3000] [--delay 0.02] [--output FILE]

A throwaway PostgreSQL 15 server, migrated; N people with the SMS channel (the HTTP sender without
pacing: Telegram's is capped at 30 messages a second by design, ADR 0018) and one notification
each, queued at once. For each worker count the outbox is filled again and the workers (threads
of this process, each with its own connection and HTTP client, as separate processes would have)
deliver until it is empty, against the SMS gateway stand-in of tests/worker/conftest.py with
--delay seconds per answer. Figures: messages a second; latency from queueing to delivery
(delivered_at - created_at) p50 and p95; the ratio to one worker, and each worker's rate against
the ceiling a sequential sender has (1 / delay).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from bazaar.worker.loop import Counts, Worker, channels_of
from bazaar.worker.senders import SmsSender
from bench.common import migrated_database, report
from tests.worker.conftest import SMS_KEY, running_standin


def fill(admin: psycopg.Connection[Any], people: int) -> None:
    admin.execute("delete from core.notifications")
    admin.execute(
        "select core.notify(u.id, 'order_paid', jsonb_build_object('order_id', u.id)) "
        "from core.users as u where u.display_name like 'Bench %%'"
    )
    row = admin.execute("select count(*) from core.notifications").fetchone()
    assert row == (people,), row


def latencies(admin: psycopg.Connection[Any]) -> list[float]:
    rows = admin.execute(
        "select extract(epoch from delivered_at - created_at)::float8 from core.notifications"
    ).fetchall()
    assert all(r[0] is not None for r in rows), "something was not delivered"
    return sorted(r[0] for r in rows)


def run(worker_dsn: str, url: str, workers: int) -> tuple[float, Counts]:
    total = Counts()
    lock = threading.Lock()

    def one(n: int) -> None:
        w = Worker(worker_dsn, channels_of([SmsSender(url, SMS_KEY)]), batch=50, poll=0.1)
        w.name = f"bench-{n}"
        done = w.run(until_idle=True)
        w.close()
        with lock:
            total.add(done)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, total


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notifications", type=int, default=3000)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--output")
    args = parser.parse_args()
    results = []
    with (
        running_standin(args.delay) as sms,
        migrated_database() as dsn,
        psycopg.connect(dsn, autocommit=True) as admin,
    ):
        admin.execute("alter role bazaar_worker login")
        admin.execute(
            "insert into core.users (display_name, phone, password_hash, notification_channels) "
            "select 'Bench ' || n, '+7926' || lpad(n::text, 7, '0'), '$2b$04$' || repeat('x', 53), "
            "'{sms}' from generate_series(1, %s) as n",
            [args.notifications],
        )
        for workers in (1, 2, 4):
            fill(admin, args.notifications)
            seconds, counts = run(make_conninfo(dsn, user="bazaar_worker"), f"{sms.url}/send", workers)
            assert counts.delivered == args.notifications, counts
            waits = latencies(admin)
            rate = args.notifications / seconds
            results.append(
                {
                    "workers": workers,
                    "delivered": counts.delivered,
                    "seconds": round(seconds, 2),
                    "per_second": round(rate, 1),
                    "per_worker_of_ceiling": round(rate / workers * args.delay, 2),
                    "latency_p50_s": round(statistics.median(waits), 2),
                    "latency_p95_s": round(waits[int(len(waits) * 0.95) - 1], 2),
                }
            )
    base = results[0]["per_second"]
    for r in results:
        r["ratio_to_one_worker"] = round(r["per_second"] / base, 2)
    report(
        {
            "benchmark": "delivery",
            "notifications": args.notifications,
            "provider_delay_s": args.delay,
            "machine": {"cpus": os.cpu_count(), "loadavg_1m": os.getloadavg()[0]},
            "runs": results,
        },
        args.output,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
