"""Failover drills: a writer that commits a numbered row every ~50 ms and remembers which commits
were acknowledged, and the arithmetic of what a fault cost (RTO, errors, rows lost).

Used by tests/cluster and bench/failover.py. The rows go to a scratch database of their own
(``bazaar_drill``), never to the marketplace's.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bazaar import queries
from bazaar.db import create_database, database_exists
from bazaar.stack import etcd
from bazaar.stack.cluster import Cluster
from bazaar.stack.patroni import TIMING

DRILL_DATABASE = "bazaar_drill"
WRITER_ROLE = "bazaar_app"
INTERVAL_S = 0.05


def prepare(admin_conninfo: str) -> None:
    """Create the drill database and table (as the admin, through the read-write port).

    ADMIN_CONNINFO points at any database of the cluster; the writer role may insert and read.
    """
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        if not database_exists(conn, DRILL_DATABASE):
            create_database(conn, DRILL_DATABASE)
    with psycopg.connect(make_conninfo(admin_conninfo, dbname=DRILL_DATABASE), autocommit=True) as conn:
        conn.execute(
            sql.SQL(queries.load("drill_setup")).format(
                database=sql.Identifier(DRILL_DATABASE), role=sql.Identifier(WRITER_ROLE)
            )
        )


@dataclass(frozen=True)
class Attempt:
    n: int
    started: float  # time.monotonic()
    finished: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Writer:
    """Commits row n = 1, 2, … every INTERVAL_S through CONNINFO, in a thread of its own.

    Each attempt is recorded: acknowledged (COMMIT returned) or failed (the error text). A failed
    connection is dropped and a new one opened for the next attempt.
    """

    conninfo: str
    interval: float = INTERVAL_S
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    attempts: list[Attempt] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._loop, name=f"drill-writer-{self.run}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def __enter__(self) -> Writer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(
                        self.conninfo, autocommit=True, connect_timeout=2, prepare_threshold=None
                    )
                conn.execute(queries.load("drill_write"), {"run": self.run, "n": n})
                self.attempts.append(Attempt(n, started, time.monotonic()))
            except psycopg.Error as exc:
                self.attempts.append(Attempt(n, started, time.monotonic(), str(exc).strip().splitlines()[0]))
                if conn is not None:
                    conn.close()
                conn = None
            next_at = max(next_at + self.interval, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))
        if conn is not None:
            conn.close()

    # -- what the attempts say -------------------------------------------------------------

    def acknowledged(self) -> set[int]:
        return {a.n for a in list(self.attempts) if a.ok}

    def failed(self) -> list[Attempt]:
        return [a for a in list(self.attempts) if not a.ok]

    def read_only_errors(self) -> list[Attempt]:
        """Writes refused by a server in recovery: routed to a replica, or to a leader still
        promoting (HAProxy's rw check waits for the role primary, patroni/haproxy.cfg)."""
        return [a for a in self.failed() if "read-only transaction" in (a.error or "")]

    def acks_after(self, moment: float) -> int:
        return sum(1 for a in list(self.attempts) if a.ok and a.started >= moment)

    def first_ack_after(self, moment: float) -> Attempt | None:
        return next((a for a in list(self.attempts) if a.ok and a.started >= moment), None)

    def wait_for_acks_after(self, moment: float, count: int, timeout: float) -> Attempt:
        """Block until COUNT writes started after MOMENT are acknowledged; the first of them."""
        deadline = time.monotonic() + timeout
        while self.acks_after(moment) < count:
            if time.monotonic() > deadline:
                last = self.failed()[-1].error if self.failed() else "none"
                raise TimeoutError(f"writes did not resume within {timeout:.0f} s (last error: {last})")
            time.sleep(0.05)
        first = self.first_ack_after(moment)
        assert first is not None
        return first


@dataclass(frozen=True)
class Outcome:
    """What one fault cost the writer."""

    rto_s: float  # fault -> first acknowledged write started after it
    errors: int  # failed attempts after the fault
    ambiguous: int  # failed attempts whose row is stored all the same (commit outcome unknown)
    acknowledged: int
    lost: int  # acknowledged rows missing afterwards: must be 0
    longest_commit_s: float  # slowest single attempt: what a paused client waits
    longest_gap_s: float  # longest time without an acknowledged write, around the fault

    def as_dict(self) -> dict[str, Any]:
        return {
            "rto_s": round(self.rto_s, 3),
            "errors": self.errors,
            "ambiguous": self.ambiguous,
            "acknowledged": self.acknowledged,
            "lost": self.lost,
            "longest_commit_s": round(self.longest_commit_s, 3),
            "longest_gap_s": round(self.longest_gap_s, 3),
        }


def timeline(
    writer: Writer, fault_at: float, before: float = 5, after: float = 40, step: float = 0.1
) -> list[int]:
    """Acknowledged writes per STEP seconds from BEFORE seconds before the fault to AFTER after it
    (by when each commit returned): the drills' PNG timelines."""
    buckets = [0] * round((before + after) / step)
    for a in list(writer.attempts):
        index = math.floor((a.finished - fault_at + before) / step)
        if a.ok and 0 <= index < len(buckets):
            buckets[index] += 1
    return buckets


def stored(conninfo: str, run: str) -> set[int]:
    """The row numbers of RUN present in the database CONNINFO (the leader) now."""
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None, connect_timeout=5) as conn:
        rows = conn.execute(queries.load("drill_stored"), {"run": run}).fetchall()
    return {r[0] for r in rows}


def outcome(writer: Writer, fault_at: float, present: set[int]) -> Outcome:
    """Compare what the writer was told with PRESENT, the rows the new leader holds."""
    attempts = list(writer.attempts)
    acked = {a.n for a in attempts if a.ok}
    after = [a for a in attempts if a.finished >= fault_at]
    first = next((a for a in attempts if a.ok and a.started >= fault_at), None)
    acks = sorted(a.finished for a in attempts if a.ok)
    before = [t for t in acks if t < fault_at]
    window = ([before[-1]] if before else []) + [t for t in acks if t >= fault_at]
    return Outcome(
        rto_s=(first.finished - fault_at) if first else float("inf"),
        errors=sum(1 for a in after if not a.ok),
        ambiguous=sum(1 for a in attempts if not a.ok and a.n in present),
        acknowledged=len(acked),
        lost=len(acked - present),
        longest_commit_s=max((a.finished - a.started for a in after), default=0.0),
        longest_gap_s=max((b - a for a, b in itertools.pairwise(window)), default=0.0),
    )


# -- the DCS lost ---------------------------------------------------------------------------


def hold(cluster: Cluster, writer: Writer, acks: int, timeout: float) -> int:
    """Let the writer commit ACKS more rows (at most TIMEOUT seconds: TimeoutError when writes
    stopped), asking every node meanwhile whether it takes writes; the most that did at once."""
    since = time.monotonic()
    deadline = since + timeout
    most = 0
    while writer.acks_after(since) < acks:
        most = max(most, len(cluster.writable_nodes()))
        if time.monotonic() > deadline:
            last = writer.failed()[-1].error if writer.failed() else "none"
            raise TimeoutError(
                f"writes stopped: {writer.acks_after(since)} of {acks} in {timeout:.0f} s ({last})"
            )
        time.sleep(0.2)
    return max(most, len(cluster.writable_nodes()))


def lose_dcs(cluster: Cluster, writer: Writer) -> dict[str, Any]:
    """The etcd drill, the WRITER running: stop the member leading the raft group (the other two
    keep a quorum), then the other two (no DCS at all: failsafe_mode must keep the leader writing
    past ttl + retry_timeout), then start all three and wait for the cluster to be healthy. Returns
    the leader before and after, the most nodes that took writes at once in each phase (more than
    one: split brain), the moment the first member stopped, and how long recovery took."""
    before = cluster.patroni.leader_name()
    first = etcd.leader(cluster.ports) or etcd.MEMBERS[0]
    rate = round(1 / writer.interval)
    started = time.monotonic()
    try:
        cluster.supervisor.stop(first)
        writable = {"one member down": hold(cluster, writer, 3 * rate, 30)}
        cluster.supervisor.stop(*(m for m in etcd.MEMBERS if m != first))
        lost_at = time.monotonic()
        # past the moment a leader without failsafe demotes itself (retry_timeout) and its key
        # expires (ttl), and long enough for Prometheus to see it (a scrape and an evaluation)
        writable["no member"] = hold(cluster, writer, (TIMING.ttl + TIMING.retry_timeout + 20) * rate, 120)
    finally:  # whatever happened, the DCS comes back
        cluster.supervisor.ctl("start", *etcd.MEMBERS, check=False)
    back_at = time.monotonic()
    cluster.wait_healthy(180)
    writable["members back"] = hold(cluster, writer, rate, 30)
    return {
        "leader_before": before,
        "leader_after": cluster.patroni.leader_name(),
        "first_stopped": first,
        "most_writable": writable,
        "at_monotonic": started,
        "dcs_lost_s": round(back_at - lost_at, 1),
        "recovered_s": round(time.monotonic() - back_at, 1),
    }
