"""Issue 19's drills on the real stack: faults production will bring, each with a writer (or
buyers) recording every acknowledged commit. The long repetitions are `make drills`
(bench/failover.py); these are one trial each."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bazaar import drill, queries
from bazaar.backup.settings import configured_repositories
from bazaar.errors import BazaarError
from bazaar.stack import etcd
from bazaar.stack.patroni import TIMING
from bazaar.stack.processes import poll
from tests.cluster.conftest import StackUnderTest
from tests.cluster.test_cluster import leader_of, wait_healthy
from tests.cluster.test_monitoring import api, query
from tests.marketplace import Market, mixed_workload, part_on_sale, signed_up


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
    # (the DCS was gone past ttl + retry_timeout: without failsafe the leader demotes after 6 s and
    # drill.hold would have raised, as checked once by hand with failsafe_mode off: ADR 0023)
    assert set(result["most_writable"].values()) == {1}, result  # never a second leader
    assert (
        result["leader_before"]
        == result["leader_after"]
        == next(n for n, r in roles.items() if r == "leader")
    )
    assert sorted(etcd.status(cluster.ports)) == list(etcd.MEMBERS)  # all three back, no human

    # and the operator was told: the no-quorum alert was raised while the members were down
    def raised() -> list[dict[str, Any]] | None:
        return query(stack, 'max_over_time(ALERTS{alertname="BazaarEtcdNoQuorum"}[5m])') or None

    poll(raised, 60, "BazaarEtcdNoQuorum raised in Prometheus")


# -- the marketplace under faults: buyers, sellers, chat through PgBouncer ---------------------

BUYERS = 50


@pytest.fixture(scope="module")
def market(stack: StackUnderTest) -> Iterator[Market]:
    """A seller, a moderator and 50 buyers signed in (tests/marketplace.py)."""
    with signed_up(stack.local.admin_dsn(), stack.local.dsn(), BUYERS) as people:
        yield people


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
    read_only: int = 0  # calls refused by a server in recovery (must never happen, issue 19)
    longest_s: float = 0.0  # the slowest answered call: PgBouncer holds a call while no leader takes it
    resolved_by_key: int = 0  # retries answered "already created": the failed call had committed

    def run(self, deadline: float) -> None:
        conn: psycopg.Connection[Any] | None = None
        n = 0
        while time.monotonic() < deadline:
            key = f"{self.name}-{n}"
            answered = False
            while not answered and time.monotonic() < deadline:
                started = time.monotonic()
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
                    self.read_only += exc.sqlstate == "25006"
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(0.2)  # pacing of a client retrying, not synchronisation
                    continue
                assert row is not None
                self.longest_s = max(self.longest_s, time.monotonic() - started)
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
    # the crash was felt: calls failed and were retried, or PgBouncer held them through the failover
    assert sum(b.retries for b in buyers) > 0 or max(b.longest_s for b in buyers) > TIMING.ttl / 2
    assert sum(b.read_only for b in buyers) == 0  # no PgBouncer connection to a server in recovery


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


def waiting_for_a_lock(stack: StackUnderTest, query: str) -> bool:
    """Does a session whose statement starts with QUERY wait for a lock now?"""
    with stack.connect(stack.local.admin_dsn()) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query ilike %s",
            [f"{query}%"],
        ).fetchone()
    return bool(row and row[0])


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
    report_s = 3.0  # how long the report goes on once the migration waits for it
    try:
        poll(lambda: all(len(c.calls) >= 10 for c in clients), 30, "the workload to be running")
        for name, text in MIGRATIONS_UNDER_LOAD.items():
            (Path(stack.env["BAZAAR_SQL_DIR"]) / "migrations" / name).write_text(text)
        # an analyst's report reads the orders in a long transaction: the ALTER must wait for it
        with psycopg.connect(stack.local.admin_dsn()) as report:
            report.execute("select count(*) from core.orders")
            migrating = subprocess.Popen(
                [sys.executable, "-m", "bazaar", "db", "migrate", "--lock-timeout", "500"],
                cwd=stack.private_cwd, env=stack.env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            poll(
                lambda: waiting_for_a_lock(stack, "alter table core.orders"),
                60,
                "the migration to wait for the report",
            )
            # the report goes on for report_s seconds more: the migration times out and retries meanwhile
            report_ends = threading.Timer(report_s, report.commit)
            report_ends.start()
            out, err = migrating.communicate(timeout=180)
            report_ends.join()
        poll(lambda: all(len(c.calls) >= 20 for c in clients), 30, "the workload to go on")
    finally:
        for c in clients:
            c.stop.set()
        for t in threads:
            t.join(timeout=30)
    migrated = subprocess.CompletedProcess(migrating.args, migrating.returncode, out, err)
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


# -- the backup repository unwritable -------------------------------------------------------------


def archiving_fails(stack: StackUnderTest) -> bool:
    """Whether the leader's WAL archiving fails now: what `bazaar status` reads (LocalStack.archiving)."""
    row = stack.local.archiving()
    return bool(row and row["failing"])


def last_archived(stack: StackUnderTest) -> str:
    """The newest WAL segment the leader's archiver reports as archived ('' before any)."""
    with stack.connect(stack.local.admin_dsn()) as conn:
        row = conn.execute(queries.load("wal_last_archived")).fetchone()
    return str(row[0]) if row and row[0] else ""


def test_an_unwritable_repository_alerts_and_loses_no_wal_once_fixed(stack: StackUnderTest) -> None:
    wait_healthy(stack)
    root = stack.cluster().root
    archive = configured_repositories(root)[0] / "archive"
    # what a full or read-only repository disk does: pgBackRest (as postgres) can write nothing
    dirs = [archive, *(d for d in archive.rglob("*") if d.is_dir())]
    modes = {d: d.stat().st_mode for d in dirs}
    switched: list[str] = []
    with drill.Writer(stack.drill_dsn("pgbouncer")) as writer:
        try:
            for d in dirs:
                d.chmod(modes[d] & ~0o222)

            def failing() -> bool:
                with stack.connect(stack.local.admin_dsn()) as conn:
                    switched.append(conn.execute(queries.load("wal_switch")).fetchone()[0])  # type: ignore[index]
                return archiving_fails(stack)

            poll(failing, 120, "WAL archiving to fail", 3)  # a new segment each time: not too often
            status = stack.bazaar("status")
            assert status.returncode == 6 and "WAL archiving fails" in status.stdout

            def alerted() -> list[dict[str, Any]] | None:
                alerts = api(stack, "alerts")["alerts"]
                return [a for a in alerts if a["labels"]["alertname"] == "BazaarWalArchivingFailing"] or None

            alert = poll(alerted, 120, "BazaarWalArchivingFailing in Prometheus")[0]
            assert alert["state"] in ("pending", "firing") and alert["labels"]["severity"] == "critical"
            writer.wait_for_acks_after(time.monotonic(), 20, 30)  # writes go on all along
        finally:
            for d in dirs:
                d.chmod(modes[d])
    assert writer.failed() == []
    # the backlog goes out in order once the repository takes writes again: nothing was lost
    poll(
        lambda: not archiving_fails(stack) and last_archived(stack) >= switched[-1],
        180,
        "the backlog archived",
    )
    check = stack.bazaar("backup", "check")
    assert check.returncode == 0, check.stderr


# -- a replica's disk full ---------------------------------------------------------------------------


def run_as_root(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)


FILLER = "filler"  # the file that fills a small volume up: what someone left on the disk


def du(path: Path) -> int:
    """Bytes of the files under PATH (a file gone meanwhile counts nothing)."""
    total = 0
    for f in path.rglob("*"):
        with contextlib.suppress(FileNotFoundError):
            total += f.stat().st_size if f.is_file() else 0
    return total


@contextlib.contextmanager
def on_a_small_volume(stack: StackUnderTest, node: str, spare_mb: int = 512) -> Iterator[Path]:
    """NODE's data directory moved, for the block, onto a loop-mounted ext4 volume of its size plus
    SPARE_MB (room for what it receives once freed), then copied back; the node is stopped for
    each move. Yields the data directory. Skips when this machine cannot loop-mount."""
    cluster = stack.cluster()
    datadir = cluster.root.datadir(node).resolve()
    aside = datadir.with_name("data.before-volume")
    back = datadir.with_name("data.from-volume")
    image = stack.home.parent / f"{node}-volume.img"
    run_as_root("truncate", "-s", str(du(datadir) + spare_mb * 2**20), str(image))
    run_as_root("mkfs.ext4", "-q", "-F", "-m", "0", str(image))
    cluster.supervisor.stop(node)  # Patroni stops its PostgreSQL first
    datadir.rename(aside)
    datadir.mkdir(mode=0o700)
    try:
        run_as_root("mount", "-o", "loop", str(image), str(datadir))
    except subprocess.CalledProcessError as exc:
        datadir.rmdir()
        aside.rename(datadir)
        image.unlink()
        cluster.supervisor.ctl("start", node)
        pytest.skip(f"cannot loop-mount a volume here: {exc.stderr.strip()}")
    try:
        run_as_root("cp", "-a", f"{aside}/.", str(datadir))
        (datadir / "lost+found").rmdir()
        shutil.chown(datadir, "postgres", "postgres")
        datadir.chmod(0o700)
        cluster.supervisor.ctl("start", node)
        yield datadir
    finally:
        # copied to a sibling first: the data directory before the drill stays until the swap
        cluster.supervisor.stop(node)
        (datadir / FILLER).unlink(missing_ok=True)
        back.mkdir(mode=0o700)
        run_as_root("cp", "-a", f"{datadir}/.", str(back))
        run_as_root("umount", str(datadir))
        datadir.rmdir()
        back.rename(datadir)
        shutil.chown(datadir, "postgres", "postgres")
        shutil.rmtree(aside)
        image.unlink()
        cluster.supervisor.ctl("start", node)


def log_tails(stack: StackUnderTest, node: str, lines: int = 25) -> str:
    """The end of NODE's Patroni log and of its newest PostgreSQL log: why it is not back."""
    logs = stack.cluster().root.log_dir
    postgres = sorted((logs / f"postgresql-{node}").glob("*"), key=lambda f: f.stat().st_mtime)[-1:]
    return "\n".join(
        f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-lines:])
        for f in [logs / f"{node}.log", *postgres]
    )


def test_a_replica_with_a_full_disk_stops_no_write_and_catches_up_once_freed(stack: StackUnderTest) -> None:
    roles = wait_healthy(stack)
    replica = next(n for n, r in roles.items() if r == "sync_standby")
    with on_a_small_volume(stack, replica) as datadir:
        wait_healthy(stack)
        with drill.Writer(stack.drill_dsn("pgbouncer")) as writer:
            writer.wait_for_acks_after(time.monotonic(), 20, 30)
            filler = datadir / FILLER  # someone's file, as root: every byte left
            free = os.statvfs(datadir)
            run_as_root("fallocate", "-l", str(free.f_bavail * free.f_frsize - 2**20), str(filler))
            with stack.connect(stack.local.admin_dsn(drill.DRILL_DATABASE)) as conn:
                # the replica must write these pages and their WAL: it cannot
                conn.execute("drop table if exists public.drill_ballast")
                conn.execute("create table public.drill_ballast (g integer, pad text)")
                conn.execute("alter table public.drill_ballast alter column pad set storage external")
                conn.execute(
                    "insert into public.drill_ballast "
                    "select g, repeat('x', 1800) from generate_series(1, 20000) as g"
                )

            def down() -> bool:
                states = {m.name: m.state for m in stack.cluster().patroni.members()}
                return states.get(replica) != "streaming"

            poll(down, 120, f"{replica} to fail on its full disk")

            def alerted() -> list[dict[str, Any]] | None:
                alerts = api(stack, "alerts")["alerts"]
                full = [a for a in alerts if a["labels"]["alertname"] == "BazaarDiskFull"]
                return [a for a in full if a["labels"].get("mountpoint") == str(datadir)] or None

            alert = poll(alerted, 120, "BazaarDiskFull for the replica's volume")[0]
            assert alert["state"] in ("pending", "firing") and alert["labels"]["severity"] == "critical"
            assert stack.bazaar("status").returncode == 6
            writer.wait_for_acks_after(time.monotonic(), 40, 60)  # the leader writes on
            filler.unlink()
            try:
                roles_after = wait_healthy(stack)  # it starts by itself and catches up from its slot
            except BazaarError as exc:
                raise AssertionError(f"{exc}\n{log_tails(stack, replica)}") from None
            writer.wait_for_acks_after(time.monotonic(), 20, 30)
        assert writer.failed() == [], writer.failed()
        assert leader_of(roles_after) == leader_of(roles)
        with stack.connect(stack.node_dsn(replica, drill.DRILL_DATABASE)) as conn:
            poll(
                lambda: writer.acknowledged() <= {r[0] for r in conn.execute(
                    "select n from public.drill_writes where run = %s", [writer.run]).fetchall()},
                30,
                "every acknowledged row on the replica",
            )  # fmt: skip
    with stack.connect(stack.local.admin_dsn(drill.DRILL_DATABASE)) as conn:
        conn.execute("drop table public.drill_ballast")
    wait_healthy(stack)
