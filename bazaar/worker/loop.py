"""The delivery worker's loop: claim the notifications of the channels it can deliver (leases,
SKIP LOCKED: several workers share the outbox), and the Telegram channel posts and edits when it
delivers Telegram; for each one record `sending`, make the external call, then acknowledge with
the provider's message id (a channel post: the channel's message id and photo, which its later
edits go to) or report the failure.

At least once: a worker that dies between the call and the acknowledgement leaves a row whose lease
runs out and whose `sending_at` is set; the next worker sends it again and counts it as a possible
duplicate. That window (one call per worker) is the only source of duplicates. One user's
notifications on one channel go out one at a time, in order (the claim hands out only the oldest
pending one of each). docs/adr/0018-notification-delivery.md.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bazaar.jsonlog import log
from bazaar.worker.messages import channel_post, render
from bazaar.worker.senders import Permanent, Published, Sender, TelegramSender, Transient

Report = Callable[[psycopg.Connection[Any], Any], None]


def connect(dsn: str, application_name: str) -> psycopg.Connection[Any]:
    """A connection as the worker's threads use it: autocommit, named, and without prepared
    statements (PgBouncer's transaction pooling shares server sessions, where a statement psycopg
    prepared collides with another client's)."""
    return psycopg.connect(
        dsn, autocommit=True, connect_timeout=5, application_name=application_name, prepare_threshold=None
    )


@dataclass
class Counts:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    possible_duplicates: int = 0

    def add(self, other: Counts) -> None:
        for name in ("delivered", "retried", "dead", "possible_duplicates"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Worker:
    dsn: str
    senders: Mapping[str, Sender]
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{threading.get_native_id()}")
    batch: int = 20
    poll: float = 1.0
    # what it claims: notifications to users, Telegram channel posts (with a Telegram sender), or
    # both. The command runs posts on a thread of their own, in small batches: a channel's pace (20
    # a minute) must hold up neither sign-in codes nor the leases of a big batch.
    targets: str = "all"
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, once: bool = False, until_idle: bool = False) -> Counts:
        """Deliver until STOP is set (the command sets it on SIGTERM and SIGINT); ONCE: one
        batch; UNTIL_IDLE: until a claim comes back empty. The counts of what it did."""
        total = Counts()
        log("info", "delivery worker started", worker=self.name, channels=sorted(self.senders))
        try:
            conn: psycopg.Connection[Any] | None = None
            while not self.stop.is_set():
                try:
                    if conn is None or conn.closed:
                        conn = connect(self.dsn, f"worker/{self.name}")
                    done = self.deliver_batch(conn)
                except psycopg.OperationalError as exc:
                    log("error", "the database is out of reach; trying again", error=type(exc).__name__)
                    conn = None
                    self.stop.wait(self.poll)
                    continue
                except psycopg.Error as exc:  # a row gone under us (a truncated outbox): the next claim
                    log("error", "a delivery report failed", error=type(exc).__name__, sqlstate=exc.sqlstate)
                    self.stop.wait(self.poll)
                    continue
                total.add(done)
                idle = done == Counts()
                if once or (until_idle and idle):
                    break
                if idle:
                    self.stop.wait(self.poll)  # nothing to claim: poll again (LISTEN does not pass PgBouncer)
            if conn is not None:
                conn.close()
        finally:
            log("info", "delivery worker stopped", worker=self.name, **vars(total))
        return total

    def close(self) -> None:
        """Close the senders' connections (SMTP, HTTP): after the last run."""
        for sender in self.senders.values():
            sender.close()

    def deliver_batch(self, conn: psycopg.Connection[Any]) -> Counts:
        done = Counts()
        with conn.cursor(row_factory=dict_row) as cur:
            rows = []
            if self.targets in ("all", "users"):
                rows += cur.execute(
                    "select * from api.claim_notifications(%s, %s, %s)",
                    [self.name, self.batch, sorted(self.senders)],
                ).fetchall()
            if self.targets in ("all", "posts") and isinstance(self.senders.get("telegram"), TelegramSender):
                rows += cur.execute(
                    "select * from api.claim_channel_posts(%s, %s)", [self.name, self.batch]
                ).fetchall()
        for row in rows:
            if self.stop.is_set():
                break  # the rest of the batch goes back when its lease runs out
            self.deliver(conn, row, done)
        return done

    def deliver(self, conn: psycopg.Connection[Any], row: Mapping[str, Any], done: Counts) -> None:
        notification_id, channel = row["notification_id"], row["channel"]
        fields = {"notification_id": notification_id, "channel": channel, "kind": row["kind"]}
        if not row["destination"]:
            self._fail(conn, notification_id, f"the user has no {channel} contact", True, None, done, fields)
            return
        try:
            send, report = self._prepare(row)
        except Exception as exc:  # a template that cannot take this payload: ours to fix, not the person's
            self._fail(
                conn, notification_id, f"cannot render: {type(exc).__name__}", False, None, done, fields
            )
            return
        pace = getattr(self.senders[channel], "pace", None)
        if pace is not None:
            pace(row["destination"], self.stop)  # before `sending`: the call gets its whole lease
            if self.stop.is_set():
                return  # stopping while it waited: the row goes back when its lease runs out
        maybe_sent = conn.execute(
            "select api.sending_notification(%s, %s)", [notification_id, self.name]
        ).fetchone()
        if maybe_sent and maybe_sent[0]:
            done.possible_duplicates += 1
            log("warning", "sending again what an earlier attempt may have sent", **fields)
        started = time.monotonic()
        try:
            result = send()
        except Permanent as exc:
            self._fail(conn, notification_id, str(exc), True, None, done, fields)
            return
        except Transient as exc:
            self._fail(conn, notification_id, str(exc), False, exc.retry_after, done, fields)
            return
        except Exception as exc:  # a sender's bug must not crash-loop the worker on this row
            log("error", "the sender failed unexpectedly", error=type(exc).__name__, **fields)
            self._fail(
                conn, notification_id, f"sender error: {type(exc).__name__}", False, None, done, fields
            )
            return
        try:
            report(conn, result)
        except psycopg.errors.ObjectNotInPrerequisiteState:
            # the call outlasted the lease and another worker claimed it: it may send it again
            # (and counts it there, sending_at being set)
            log("warning", "delivered after another worker claimed it", **fields)
            return
        done.delivered += 1
        log("info", "delivered", seconds=round(time.monotonic() - started, 3), **fields)

    def _prepare(self, row: Mapping[str, Any]) -> tuple[Callable[[], Any], Report]:
        """The external call for ROW and how to report its result: a notification is sent and
        acknowledged with the provider's id; a channel post is posted or edited and reported
        with the channel's message id and photo."""
        notification_id, payload, destination = (
            row["notification_id"],
            row["payload"] or {},
            row["destination"],
        )
        sender = self.senders[row["channel"]]
        if row["channel_post_id"] is None:
            message = render(row["kind"], payload)

            def acknowledge(conn: psycopg.Connection[Any], provider_id: str) -> None:
                conn.execute(
                    "select api.ack_notification(%s, %s, %s)",
                    [notification_id, self.name, provider_id or None],
                )

            return lambda: sender.send(destination, message, notification_id), acknowledge
        assert isinstance(sender, TelegramSender)  # channel posts are claimed only with one
        post = channel_post(payload, sender.listing_url)

        def posted(conn: psycopg.Connection[Any], published: Published) -> None:
            conn.execute(
                "select api.channel_post_delivered(%s, %s, %s, %s)",
                [self.name, notification_id, published.message_id, published.photo],
            )

        return (
            lambda: sender.publish(
                destination, post, payload.get("telegram_message_id"), payload.get("telegram_photo")
            ),
            posted,
        )

    def _fail(
        self,
        conn: psycopg.Connection[Any],
        notification_id: int,
        reason: str,
        permanent: bool,
        retry_after: int | None,
        done: Counts,
        fields: Mapping[str, Any],
    ) -> None:
        try:
            row = conn.execute(
                "select api.fail_notification(%s, %s, %s, %s, %s)",
                [notification_id, self.name, reason or "failed", permanent, retry_after],
            ).fetchone()
        except psycopg.errors.ObjectNotInPrerequisiteState:
            log("warning", "failed after another worker claimed it", **fields)
            return
        except psycopg.errors.InvalidParameterValue as exc:  # a report the database refuses
            log("error", "the failure report was refused", sqlstate=exc.sqlstate, **fields)
            return
        outcome = row[0] if row else "retry"
        if outcome == "dead":
            done.dead += 1
        else:
            done.retried += 1
        # the provider's status only ("SMTP 550", "Telegram 403"): its full text may name the
        # address; it is kept in core.notifications.last_error, for `bazaar outbox dead-letter`
        status = reason.split(":", 1)[0][:60]
        log(
            "warning" if outcome == "retry" else "error", f"not delivered: {outcome}", status=status, **fields
        )


def channels_of(senders: Sequence[Sender]) -> dict[str, Sender]:
    return {sender.channel: sender for sender in senders}
