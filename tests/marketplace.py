"""The marketplace's people and listings for tests that need separate connections (races, drills
on the stack): register and sign in, put a part on sale, release workers together. Every call
goes through the api functions, as an application's would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

PASSWORD = "concurrency-pw"


def call(conn: psycopg.Connection[Any], query: str, *args: Any) -> Any:
    row = conn.execute(query.encode(), args).fetchone()
    return row[0] if row and len(row) == 1 else row


def person(conn: psycopg.Connection[Any], name: str) -> str:
    """Register NAME (NAME@example.com) and sign in: the session token."""
    email = f"{name}@example.com"
    call(conn, "select api.register(%s, %s, %s)", name, PASSWORD, email)
    return str(call(conn, "select token from api.login(%s, %s)", email, PASSWORD))


def part_on_sale(
    conn: psycopg.Connection[Any], seller: str, moderator: str, title: str, part_number: str, quantity: int
) -> int:
    """A new brake-pad listing of SELLER with QUANTITY in stock, submitted and approved: its id."""
    category = call(conn, "select id from api.categories() where slug = 'brake-pads'")
    listing = call(
        conn,
        "select api.create_listing(p_token => %s, p_kind => 'part', p_category_id => %s, "
        "p_title => %s, p_price_amount => 5000, p_region => 'Москва', p_city => 'Москва', "
        "p_quantity => %s, p_attributes => %s)",
        seller, category, title, quantity, Jsonb({"part_number": part_number, "condition": "new"}),
    )  # fmt: skip
    call(conn, "select api.submit_listing(%s, %s)", seller, listing)
    call(conn, "select api.approve_listing(%s, %s)", moderator, listing)
    return int(listing)


def race(workers: int, work: Callable[[int], Any], timeout: float = 60) -> list[Any]:
    """Run WORK(i) in WORKERS threads released together; results (or exceptions) by worker."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported by the caller's assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results
