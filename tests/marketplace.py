"""The marketplace's people and listings for tests that need separate connections (races, drills
on the stack): register and sign in, put a part on sale, release workers together. Every call
goes through the api functions, as an application's would."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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


@dataclass
class Market:
    seller: str
    moderator: str
    buyers: list[tuple[str, str]]  # (e-mail, session token)


SETTINGS = "select key, value::text from core.settings where key = any(%s)"
SET_SETTING = (
    "update core.settings as s set value = v.value::jsonb "
    "from unnest(%s::text[], %s::text[]) as v (key, value) where s.key = v.key"
)
# fast password hashing for many sign-ups, and a chat flood limit the workload stays under
DRILL_SETTINGS = {"bcrypt_cost": "4", "chat_flood_limit": "1000"}


@contextlib.contextmanager
def signed_up(admin_dsn: str, app_dsn: str, buyers: int) -> Iterator[Market]:
    """A seller, a moderator and BUYERS buyers signed in through APP_DSN (as an application);
    DRILL_SETTINGS set through ADMIN_DSN meanwhile, and restored afterwards."""

    def connect(dsn: str) -> psycopg.Connection[Any]:
        return psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=5)

    with connect(admin_dsn) as admin:
        saved = dict(admin.execute(SETTINGS, [list(DRILL_SETTINGS)]).fetchall())
        admin.execute(SET_SETTING, [list(DRILL_SETTINGS), list(DRILL_SETTINGS.values())])
        try:
            with connect(app_dsn) as conn:
                tag = secrets.token_hex(3)
                seller, moderator = (
                    person(conn, f"drill_seller_{tag}"),
                    person(conn, f"drill_moderator_{tag}"),
                )
                admin.execute(
                    "update core.users set role = 'moderator' where email = %s",
                    [f"drill_moderator_{tag}@example.com"],
                )
                names = [f"drill_buyer_{tag}_{i}" for i in range(buyers)]
                people = [(f"{name}@example.com", person(conn, name)) for name in names]
            yield Market(seller, moderator, people)
        finally:
            with connect(admin_dsn) as again:
                again.execute(SET_SETTING, [list(saved), list(saved.values())])


@dataclass
class Client:
    """An application client calling one api function in a loop through PgBouncer (CALL gets a
    connection and the call's number); each call's duration and error are kept."""

    dsn: str
    call: Callable[[psycopg.Connection[Any], int], None]
    pause_s: float
    calls: list[tuple[float, str | None]] = field(default_factory=list)  # (seconds, error)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        n = 0
        while not self.stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                if conn is None:
                    conn = psycopg.connect(
                        self.dsn, autocommit=True, prepare_threshold=None, connect_timeout=3
                    )
                self.call(conn, n)
                self.calls.append((time.monotonic() - started, None))
            except psycopg.Error as exc:
                self.calls.append((time.monotonic() - started, f"{exc.sqlstate}: {exc}".splitlines()[0]))
                if conn is not None:
                    conn.close()
                conn = None
            self.stop.wait(self.pause_s)
        if conn is not None:
            conn.close()


def mixed_workload(dsn: str, market: Market, listing: int) -> list[Client]:
    """Orders (placed and cancelled), price edits and chat on LISTING: what issue 19 calls the mix."""
    buyer, asker = market.buyers[0][1], market.buyers[1][1]
    run = secrets.token_hex(4)  # idempotency keys of this workload's own: a key names one order

    def order(conn: psycopg.Connection[Any], n: int) -> None:
        row = conn.execute(
            "select order_id from api.create_order(%s, %s, 1, %s)", [buyer, listing, f"mix-{run}-{n}"]
        ).fetchone()
        assert row is not None
        conn.execute("select api.cancel_order(%s, %s)", [buyer, row[0]])

    def edit(conn: psycopg.Connection[Any], n: int) -> None:
        conn.execute("select api.change_price(%s, %s, %s)", [market.seller, listing, 5000 + n % 100])

    def chat(conn: psycopg.Connection[Any], n: int) -> None:
        conn.execute("select api.post_message(%s, %s, %s)", [asker, listing, f"Подойдут к Весте? ({n})"])

    return [Client(dsn, order, 0.02), Client(dsn, edit, 0.02), Client(dsn, chat, 0.1)]
