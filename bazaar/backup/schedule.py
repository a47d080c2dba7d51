"""The backup scheduler: which backup (or verification) is due, and the loop that runs it.

A job is due when the newest good one of its kind is older than the policy says, so a scheduler
that was stopped catches up at once when it starts, and one that runs twice finds nothing due:

- full: no full backup yet, the newest is older than ``full``, or the cluster changed timeline
  since it (after a failover pgBackRest usually reads another standby, whose pages differ in hint
  bits: its next incremental copies a third of the cluster or more for the time a full takes;
  docs/adr/0012-backups.md has the figures);
- diff: the newest full or differential is older than ``diff``;
- incr: the newest backup of any type is older than ``incr``;
- verify: the newest successful `bazaar backup verify` is older than ``verify``.

One job per tick, the strongest first; a failed job is retried after ``retry``. The policy is
``BAZAAR_BACKUP_SCHEDULE`` at `bazaar up` ("full=7d diff=1d incr=6h verify=7d retry=10m"), each
one optional; ``off`` disables a kind.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bazaar import jsonlog
from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError, one_line

_DURATION = re.compile(r"^(?P<n>[1-9]\d{0,5})(?P<unit>[smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
KINDS = ("full", "diff", "incr", "verify")


def parse_duration(text: str) -> timedelta | None:
    """'6h' -> 6 hours; 'off' -> None."""
    if text == "off":
        return None
    found = _DURATION.match(text)
    if not found:
        raise BazaarError(
            f'{text!r} is not a duration: a whole number and s, m, h or d ("6h"), or off',
            exit_code=EXIT_BAD_ARGUMENT,
        )
    return timedelta(seconds=int(found["n"]) * _UNITS[found["unit"]])


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "off"
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Policy:
    full: timedelta | None = timedelta(days=7)
    diff: timedelta | None = timedelta(days=1)
    incr: timedelta | None = timedelta(hours=6)
    verify: timedelta | None = timedelta(days=7)
    retry: timedelta = timedelta(minutes=10)

    @classmethod
    def parse(cls, text: str) -> Policy:
        """'full=7d incr=1h': the defaults with the kinds named replaced."""
        policy = cls()
        for item in text.split():
            name, sep, value = item.partition("=")
            if not sep or name not in (*KINDS, "retry"):
                raise BazaarError(
                    f"{item!r} is not a schedule entry: expected NAME=DURATION with NAME one of "
                    f"{', '.join((*KINDS, 'retry'))}",
                    exit_code=EXIT_BAD_ARGUMENT,
                )
            duration = parse_duration(value)
            if name == "retry" and duration is None:
                raise BazaarError("retry cannot be off", exit_code=EXIT_BAD_ARGUMENT)
            fields: dict[str, Any] = {name: duration}
            policy = replace(policy, **fields)
        return policy

    def __str__(self) -> str:
        return " ".join(f"{k}={format_duration(getattr(self, k))}" for k in (*KINDS, "retry"))


def timeline(wal_name: str) -> int:
    """The timeline of a WAL segment name (its first 8 hex digits)."""
    return int(wal_name[:8], 16)


def due(
    policy: Policy,
    backups: Sequence[dict[str, Any]],
    last_verified: datetime | None,
    current_timeline: int | None,
    now: datetime,
) -> str | None:
    """The job due now (full, diff, incr, verify) or None. BACKUPS as Backups.backups() lists them."""
    good = [b for b in backups if not b["error"]]
    fulls = [b for b in good if b["type"] == "full"]
    if policy.full is not None:
        if not fulls or now - fulls[-1]["stopped_at"] >= policy.full:
            return "full"
        if current_timeline is not None and timeline(fulls[-1]["wal_start"]) < current_timeline:
            return "full"
    if not good:
        return None
    chained = [b for b in good if b["type"] in ("full", "diff")]
    if policy.diff is not None and chained and now - chained[-1]["stopped_at"] >= policy.diff:
        return "diff"
    if policy.incr is not None and now - good[-1]["stopped_at"] >= policy.incr:
        return "incr"
    if policy.verify is not None and (last_verified is None or now - last_verified >= policy.verify):
        return "verify"
    return None


@dataclass
class Scheduler:
    """Runs what is due every TICK seconds until stopped (SIGTERM, SIGINT)."""

    policy: Policy
    tick: float = 60.0
    stopping: bool = False

    def run(
        self,
        check: Callable[[set[str]], str | None],
        execute: Callable[[str], str],
        log: Callable[[str], None],
        once: bool = False,
        error: Callable[[str], None] | None = None,
    ) -> int:
        """CHECK says what is due, but for the jobs it is given; EXECUTE runs one and returns a
        summary; LOG takes what happens, ERROR what fails (LOG too when not given). ONCE: each
        job at most once, then return. The number of failures."""
        # the handlers are ours only while we run: a process that ran us and forks later (the
        # generator's producer) must not inherit a SIGTERM that no longer ends anything
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            return self._loop(check, execute, log, error or log, once)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _loop(
        self,
        check: Callable[[set[str]], str | None],
        execute: Callable[[str], str],
        log: Callable[[str], None],
        error: Callable[[str], None],
        once: bool,
    ) -> int:
        failures = 0
        retry_at: dict[str, float] = {}
        ran: set[str] = set()  # ONCE: each kind at most once
        log(f"backup scheduler started: {self.policy}")
        if not once:  # `bazaar up` takes a repository's first full backup itself, right after starting us
            self._wait(self.tick)
        while not self.stopping:
            job = None
            try:
                waiting = {j for j, at in retry_at.items() if at > time.monotonic()}  # failed, not yet again
                job = check((ran if once else set()) | waiting)
            except Exception as exc:  # a daemon: log it, try again next tick
                error(f"cannot tell what is due: {one_line(str(exc)) or type(exc).__name__}")
            if job is not None:
                ran.add(job)
                log(f"{job}: starting")
                try:
                    log(f"{job}: done: {execute(job)}")
                    retry_at.pop(job, None)
                except Exception as exc:  # a daemon: log it, retry the job later
                    if "unable to acquire lock" in str(exc):  # another backup runs: try at the next tick
                        log(f"{job}: another backup holds pgBackRest's lock; next tick")
                        if once:
                            break
                        self._wait(self.tick)
                        continue
                    failures += 1
                    retry_at[job] = time.monotonic() + self.policy.retry.total_seconds()
                    reason = one_line(str(exc)) or type(exc).__name__
                    error(f"{job}: FAILED: {reason} (retry in {format_duration(self.policy.retry)})")
                continue  # something else may be due at once
            if once:
                break
            self._wait(self.tick)
        log("backup scheduler stopped")
        return failures

    def _stop(self, _signum: int, _frame: Any) -> None:
        self.stopping = True

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(1.0, deadline - time.monotonic()))


def main(argv: Sequence[str] | None = None) -> int:
    """The supervisord program: python -m bazaar.backup.schedule --server-root R --dsn D --pgpass P."""
    from bazaar.backup.operations import Backups  # the operations import the stack; keep -h cheap
    from bazaar.stack.layout import ServerRoot

    parser = argparse.ArgumentParser(prog="bazaar-backup-scheduler", description=__doc__)
    parser.add_argument("--server-root", required=True, type=Path)
    parser.add_argument("--dsn", required=True, help="the leader, as the superuser (ops.backup_runs)")
    parser.add_argument("--pgpass", required=True, type=Path)
    parser.add_argument("--policy", default="")
    parser.add_argument("--tick", type=float, default=60.0)
    parser.add_argument("--once", action="store_true", help="run what is due now, then exit")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        jsonlog.log("info", message)

    def error(message: str) -> None:
        jsonlog.log("error", message)

    try:
        policy = Policy.parse(args.policy)
    except BazaarError as exc:
        error(str(exc))
        return 2
    backups = Backups(ServerRoot(args.server_root), args.dsn, args.pgpass)

    def check(done: set[str]) -> str | None:
        """What is due; first the metrics of what was done (node_exporter serves them), from the
        same reading of the repository and the database."""
        standing = backups.standing()
        try:
            backups.publish_metrics(standing)
        except Exception as exc:  # the metrics go stale (an alert says so); the backups go on
            error(f"cannot write the backup metrics: {one_line(str(exc)) or type(exc).__name__}")
        return backups.due(policy, done, standing)

    scheduler = Scheduler(policy, tick=args.tick)
    failures = scheduler.run(check, backups.run_job, log, once=args.once, error=error)
    return 1 if args.once and failures else 0


if __name__ == "__main__":
    sys.exit(main())
