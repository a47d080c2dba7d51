"""Every api function an operator or a tester would call has a `bazaar` command: the api (the
functions the repository defines) against what the CLI's commands call. A function only programs
call — the delivery worker, the Telegram bot, Alertmanager's receiver — is listed here with the
program that does."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = {
    "sending_notification": "the delivery worker, right before each call (bazaar/worker/loop.py)",
    "fail_notification": "the delivery worker, after a failed call",
    "queue_operator_alerts": "Alertmanager's webhook receiver (bazaar/monitoring/receiver.py)",
    "telegram_poll": "the Telegram bot, to read updates (bazaar/worker/bot.py)",
    "telegram_polled": "the Telegram bot, after each update",
    "telegram_start": "the Telegram bot, on /start <link token>",
    "telegram_contact": "the Telegram bot, on a shared contact",
}
# kept for the callers written against them (docs/adr/0020-api-evolution.md); the CLI calls the newer
SUPERSEDED = {
    "login": "api.sign_in (bazaar user login)",
    "sign_in_with_code": "api.sign_in with p_code (bazaar user login --code)",
}


def api_functions() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "sql" / "functions" / "api").rglob("*.sql"):
        found |= set(re.findall(r"create or replace function api\.(\w+)\(", path.read_text()))
    return found


def called_by_commands() -> set[str]:
    source = "\n".join(path.read_text() for path in (ROOT / "bazaar" / "cli").glob("*.py"))
    # one(settings, "name", …), call(…) and the helpers that pass a function name on the same way
    called = set(re.findall(r"\w+\(\s*settings,\s*\"(\w+)\"", source))
    return called | set(re.findall(r"_status_command\(\s*\"[\w-]+\",\s*\"(\w+)\"", source))


def test_every_api_function_has_a_command_unless_only_programs_call_it() -> None:
    api = api_functions()
    assert len(api) > 100  # the parse found the api
    exempt = set(INTERNAL) | set(SUPERSEDED)
    assert sorted(api - called_by_commands() - exempt) == []
    assert sorted(exempt - api) == []  # no stale exemption
    assert sorted(exempt & called_by_commands()) == []  # nor one the CLI does call
