"""The backup schedule's decisions (bazaar/backup/schedule.py), on lists of backups as
`Backups.backups()` gives them: pure functions, no stack needed."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bazaar.backup.schedule import Policy, Scheduler, due, format_duration, parse_duration
from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def backup(kind: str, hours_ago: float, timeline: int = 1, error: bool = False) -> dict[str, Any]:
    return {
        "type": kind,
        "stopped_at": NOW - timedelta(hours=hours_ago),
        "wal_start": f"{timeline:08X}000000000000000A",
        "error": error,
    }


def test_nothing_due_when_every_kind_is_recent() -> None:
    backups = [backup("full", 30), backup("diff", 5), backup("incr", 1)]
    assert due(Policy(), backups, NOW - timedelta(days=1), 1, NOW) is None


@pytest.mark.parametrize(
    ("backups", "verified_hours_ago", "expected"),
    [
        ([], None, "full"),  # nothing yet
        ([backup("full", 24 * 8)], 1, "full"),  # the full is older than a week
        ([backup("full", 30), backup("incr", 1)], 1, "diff"),  # no diff in a day
        ([backup("full", 30), backup("diff", 23), backup("incr", 7)], 1, "incr"),
        ([backup("full", 30), backup("diff", 5), backup("incr", 1)], 24 * 8, "verify"),
        ([backup("full", 30), backup("diff", 5), backup("incr", 1)], None, "verify"),
        # a failed backup counts for nothing
        ([backup("full", 30), backup("diff", 7), backup("incr", 1, error=True)], 1, "incr"),
        ([backup("full", 1, error=True)], 1, "full"),
    ],
)
def test_the_strongest_due_job_first(
    backups: list[dict[str, Any]], verified_hours_ago: float | None, expected: str
) -> None:
    verified = None if verified_hours_ago is None else NOW - timedelta(hours=verified_hours_ago)
    assert due(Policy(), backups, verified, 1, NOW) == expected


def test_a_new_timeline_starts_a_new_chain_with_a_full() -> None:
    backups = [backup("full", 2, timeline=3), backup("incr", 1, timeline=3)]
    assert due(Policy(), backups, NOW, 3, NOW) is None
    assert due(Policy(), backups, NOW, 4, NOW) == "full"
    # a full on the new timeline ends it
    assert due(Policy(), [*backups, backup("full", 0.5, timeline=4)], NOW, 4, NOW) is None


def test_kinds_switched_off_are_never_due() -> None:
    off = Policy.parse("full=off diff=off incr=off verify=off")
    assert due(off, [], None, 7, NOW) is None
    assert due(Policy.parse("full=off"), [backup("full", 24 * 30)], NOW, 9, NOW) == "diff"


def test_policy_text_round_trips_and_bad_text_is_refused() -> None:
    policy = Policy.parse("full=14d incr=90m verify=off")
    assert str(policy) == "full=14d diff=1d incr=90m verify=off retry=10m"
    assert Policy.parse(str(policy)) == policy
    assert parse_duration("45s") == timedelta(seconds=45) and format_duration(timedelta(seconds=45)) == "45s"
    for text, message in [
        ("weekly", "not a schedule entry"),
        ("hourly=1h", "not a schedule entry"),
        ("incr=6", "not a duration"),
        ("incr=-1h", "not a duration"),
        ("incr=0h", "not a duration"),
        ("incr=1w", "not a duration"),
        ("retry=off", "retry cannot be off"),
    ]:
        with pytest.raises(BazaarError) as refused:
            Policy.parse(text)
        assert message in str(refused.value) and refused.value.exit_code == EXIT_BAD_ARGUMENT


def test_once_runs_each_due_kind_once_and_reports_a_failure() -> None:
    plan = iter(["incr", "verify", None])  # what is due at each check, but for what ran
    skipped: list[set[str]] = []

    def check(done: set[str]) -> str | None:
        skipped.append(set(done))
        return next(plan)

    ran: list[str] = []
    lines: list[str] = []

    def execute(job: str) -> str:
        ran.append(job)
        if job == "verify":
            raise BazaarError("the copy did not start")
        return "ok"

    failures = Scheduler(Policy(), tick=0).run(check, execute, lines.append, once=True)
    assert ran == ["incr", "verify"] and failures == 1
    assert skipped == [set(), {"incr"}, {"incr", "verify"}]
    assert any("verify: FAILED: the copy did not start (retry in 10m)" in line for line in lines)


def test_the_signal_handlers_are_given_back_when_the_scheduler_returns() -> None:
    # a process that ran the scheduler and forks later must not pass on a SIGTERM that ends nothing
    # (a generator producer once inherited it, ignored terminate(), and pytest waited for it forever)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    during: list[object] = []

    def check(_done: set[str]) -> str | None:
        during.append(signal.getsignal(signal.SIGTERM))
        return None

    Scheduler(Policy(), tick=0).run(check, lambda job: "ok", lambda line: None, once=True)
    assert during and during[0] not in (before[signal.SIGTERM], signal.SIG_DFL)
    assert {sig: signal.getsignal(sig) for sig in before} == before
