"""Issue 19's drills on the real stack: faults production will bring, each with a writer (or
buyers) recording every acknowledged commit. The long repetitions are `make drills`
(bench/failover.py); these are one trial each."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bazaar import drill
from bazaar.stack import etcd
from bazaar.stack.patroni import TIMING
from bazaar.stack.processes import poll
from tests.cluster.conftest import StackUnderTest
from tests.cluster.test_cluster import leader_of, wait_healthy
from tests.marketplace import part_on_sale, person


def test_losing_etcd_stops_no_write_and_makes_no_second_leader(stack: StackUnderTest) -> None:
    roles = wait_healthy(stack)
    cluster = stack.cluster()
    assert sorted(etcd.status(cluster.ports)) == list(etcd.MEMBERS)
    with drill.Writer(stack.drill_dsn("pgbouncer")) as writer:
        writer.wait_for_acks_after(time.monotonic(), 20, 30)
        result = drill.lose_dcs(cluster, writer)
    present = drill.stored(stack.local.admin_dsn(drill.DRILL_DATABASE), writer.run)
    outcome = drill.outcome(writer, result["at_monotonic"], present)
    # one member lost: a quorum is left; all three: failsafe_mode keeps the leader writing
    assert outcome.errors == 0 and outcome.lost == 0, writer.failed()
    assert result["dcs_lost_s"] > 20  # longer than ttl: without failsafe the leader would have demoted
    assert set(result["most_writable"].values()) == {1}, result  # never a second leader
    assert (
        result["leader_before"]
        == result["leader_after"]
        == next(n for n, r in roles.items() if r == "leader")
    )
    assert sorted(etcd.status(cluster.ports)) == list(etcd.MEMBERS)  # all three back, no human


# -- the marketplace under faults: buyers, sellers, chat through PgBouncer ---------------------

BUYERS = 50


@dataclass
class Market:
    seller: str
    moderator: str
    buyers: list[tuple[str, str]]  # (e-mail, session token)


@pytest.fixture(scope="module")
def market(stack: StackUnderTest) -> Iterator[Market]:
    """A seller, a moderator and 50 buyers signed in; fast password hashing and a chat flood
    limit the workload stays under, restored afterwards."""
    with stack.connect(stack.local.admin_dsn()) as admin:
        saved = dict(admin.execute(SETTINGS, [list(TEST_SETTINGS)]).fetchall())
        admin.execute(SET_SETTING, [list(TEST_SETTINGS), list(TEST_SETTINGS.values())])
        try:
            with stack.connect(stack.local.dsn()) as conn:
                tag = secrets.token_hex(3)
                seller, moderator = (
                    person(conn, f"drill_seller_{tag}"),
                    person(conn, f"drill_moderator_{tag}"),
                )
                admin.execute(
                    "update core.users set role = 'moderator' where email = %s",
                    [f"drill_moderator_{tag}@example.com"],
                )
                names = [f"drill_buyer_{tag}_{i}" for i in range(BUYERS)]
                buyers = [(f"{name}@example.com", person(conn, name)) for name in names]
            yield Market(seller, moderator, buyers)
        finally:
            with stack.connect(stack.local.admin_dsn()) as again:
                again.execute(SET_SETTING, [list(saved), list(saved.values())])


SETTINGS = "select key, value::text from core.settings where key = any(%s)"
SET_SETTING = (
    "update core.settings as s set value = v.value::jsonb "
    "from unnest(%s::text[], %s::text[]) as v (key, value) where s.key = v.key"
)
TEST_SETTINGS = {"bcrypt_cost": "4", "chat_flood_limit": "1000"}
# what a client sees while the leader is gone or moving: try again (with the same idempotency key)
RETRYABLE = ("08", "57P", "25006")


def retryable(exc: psycopg.Error) -> bool:
    return exc.sqlstate is None or exc.sqlstate.startswith(RETRYABLE)


@dataclass
class Buyer:
    """A buyer ordering one unit at a time until the listing is sold out. A call that failed
    with a connection error is retried with the same idempotency key until it is answered."""

    dsn: str
    token: str
    listing: int
    name: str
    told: list[int] = field(default_factory=list)  # order ids the buyer was told are reserved
    retries: int = 0  # calls answered only on a retry
    resolved_by_key: int = 0  # retries answered "already created": the failed call had committed

    def run(self, deadline: float) -> None:
        conn: psycopg.Connection[Any] | None = None
        n = 0
        while time.monotonic() < deadline:
            key = f"{self.name}-{n}"
            answered = False
            while not answered and time.monotonic() < deadline:
                try:
                    if conn is None:
                        conn = psycopg.connect(
                            self.dsn, autocommit=True, prepare_threshold=None, connect_timeout=3
                        )
                    row = conn.execute(
                        "select order_id, created from api.create_order(%s, %s, 1, %s)",
                        [self.token, self.listing, key],
                    ).fetchone()
                except psycopg.Error as exc:
                    if exc.sqlstate == "55000":
                        return  # sold out
                    if not retryable(exc):
                        raise
                    self.retries += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(0.2)  # pacing of a client retrying, not synchronisation
                    continue
                assert row is not None
                self.told.append(row[0])
                self.resolved_by_key += 0 if row[1] else 1
                answered = True
            n += 1
            time.sleep(1.0)  # one order a second per buyer: the stock lasts through the crash
        if conn is not None:
            conn.close()


def test_buyers_racing_through_a_leader_crash_never_oversell_and_keep_what_they_were_told(
    stack: StackUnderTest, market: Market
) -> None:
    old = leader_of(wait_healthy(stack))
    stock = 4 * BUYERS
    with stack.connect(stack.local.dsn()) as conn:
        listing = part_on_sale(
            conn, market.seller, market.moderator, "Chaos pads", f"CHAOS-{secrets.token_hex(3)}", stock
        )
    buyers = [
        Buyer(stack.local.dsn(), token, listing, f"chaos-{i}") for i, (_, token) in enumerate(market.buyers)
    ]
    deadline = time.monotonic() + TIMING.ttl + 90
    threads = [threading.Thread(target=b.run, args=(deadline,)) for b in buyers]
    for t in threads:
        t.start()
    poll(lambda: sum(len(b.told) for b in buyers) >= stock // 4, 30, "a quarter of the stock ordered")
    stack.bazaar_json("cluster", "kill", old, "--down-for", str(TIMING.ttl + 10))
    for t in threads:
        t.join(timeout=TIMING.ttl + 120)
    assert not any(t.is_alive() for t in threads), "a buyer never got an answer"
    roles = wait_healthy(stack)
    assert leader_of(roles) != old
    told = [order for b in buyers for order in b.told]
    with stack.connect(stack.local.admin_dsn()) as admin:
        quantity, reserved = admin.execute(
            "select quantity, reserved_quantity from core.listings where id = %s", [listing]
        ).fetchone() or (None, None)
        held = admin.execute(
            "select o.id, u.email, o.status::text from core.orders as o "
            "join core.users as u on u.id = o.buyer_id "
            "join core.order_lines as ol on ol.order_id = o.id where ol.listing_id = %s",
            [listing],
        ).fetchall()
    assert quantity == stock and reserved == stock  # every unit reserved once, none twice
    assert len(told) == len(set(told)) == stock  # what the buyers were told: exactly the stock
    assert sorted(o[0] for o in held) == sorted(told)  # each told order is stored, and no other
    assert {o[2] for o in held} == {"reserved"}
    for (email, _token), buyer in zip(market.buyers, buyers, strict=True):  # each holds what they were told
        assert sorted(o[0] for o in held if o[1] == email) == sorted(buyer.told)
    assert sum(b.retries for b in buyers) > 0  # the crash was felt: calls failed and were retried


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

    def order(conn: psycopg.Connection[Any], n: int) -> None:
        row = conn.execute(
            "select order_id from api.create_order(%s, %s, 1, %s)", [buyer, listing, f"mix-{listing}-{n}"]
        ).fetchone()
        assert row is not None
        conn.execute("select api.cancel_order(%s, %s)", [buyer, row[0]])

    def edit(conn: psycopg.Connection[Any], n: int) -> None:
        conn.execute("select api.change_price(%s, %s, %s)", [market.seller, listing, 5000 + n % 100])

    def chat(conn: psycopg.Connection[Any], n: int) -> None:
        conn.execute("select api.post_message(%s, %s, %s)", [asker, listing, f"Подойдут к Весте? ({n})"])

    return [Client(dsn, order, 0.02), Client(dsn, edit, 0.02), Client(dsn, chat, 0.1)]


MIGRATIONS_UNDER_LOAD = {
    "V9001__drill_order_channel.sql": """\
alter table core.orders add column drill_channel text not null default 'web';
alter table core.orders add column drill_referrer_id bigint;
alter table core.orders add constraint fk_orders_drill_referrer_id_users
    foreign key (drill_referrer_id) references core.users (id) not valid;
""",
    "V9002__drill_order_channel_index.sql": """\
-- bazaar:no-transaction
create index concurrently if not exists index_orders_on_drill_channel on core.orders (drill_channel);
alter table core.orders validate constraint fk_orders_drill_referrer_id_users;
""",
}


def test_a_migration_under_load_fails_no_request_and_holds_none_for_long(
    stack: StackUnderTest, market: Market
) -> None:
    with stack.connect(stack.local.dsn()) as conn:
        listing = part_on_sale(
            conn, market.seller, market.moderator, "Mix pads", f"MIX-{secrets.token_hex(3)}", 1000
        )
    clients = mixed_workload(stack.local.dsn(), market, listing)
    threads = [threading.Thread(target=c.run) for c in clients]
    for t in threads:
        t.start()
    report_s = 3.0
    try:
        poll(lambda: all(len(c.calls) >= 10 for c in clients), 30, "the workload to be running")
        for name, text in MIGRATIONS_UNDER_LOAD.items():
            (Path(stack.env["BAZAAR_SQL_DIR"]) / "migrations" / name).write_text(text)
        # an analyst's report reads the orders in a long transaction: the ALTER must wait for it
        with psycopg.connect(stack.local.admin_dsn()) as report:
            report.execute("select count(*) from core.orders")
            finish = threading.Timer(report_s, report.commit)
            finish.start()
            migrated = stack.bazaar("db", "migrate", "--lock-timeout", "500")
            finish.join()
        poll(lambda: all(len(c.calls) >= 20 for c in clients), 30, "the workload to go on")
    finally:
        for c in clients:
            c.stop.set()
        for t in threads:
            t.join(timeout=30)
    assert migrated.returncode == 0, migrated.stderr
    calls = [call for c in clients for call in c.calls]
    assert [e for _, e in calls if e] == []
    # a migration queued behind the report would have held every order for report_s seconds
    assert max(s for s, _ in calls) < report_s - 1, sorted(s for s, _ in calls)[-5:]
    assert "a lock is taken" in migrated.stderr  # it gave way to the report, then tried again
    with stack.connect(stack.local.admin_dsn()) as admin:
        index = admin.execute(
            "select indisvalid from pg_index "
            "where indexrelid = 'core.index_orders_on_drill_channel'::regclass"
        ).fetchone()
        fk = admin.execute(
            "select convalidated from pg_constraint where conname = 'fk_orders_drill_referrer_id_users'"
        ).fetchone()
    assert index == (True,) and fk == (True,)
