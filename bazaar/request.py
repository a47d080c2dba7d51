"""The request id of this process's calls (docs/adr/0016-logs-and-request-ids.md).

Every connection bazaar opens names itself `bazaar/<request id>` (application_name): PostgreSQL
writes it in every log line of the session, and the audit log rows and notifications the call
writes take the id from it (core.audit_log.request_id, core.notifications.request_id). One id per
CLI invocation: BAZAAR_REQUEST_ID when the caller passes one (a script, a web request it serves),
else a new one, time-ordered (milliseconds since the epoch in hex, then 8 random hex digits).
"""

from __future__ import annotations

import os
import re
import secrets
import time

from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError

PATTERN = re.compile(r"[A-Za-z0-9._-]{8,40}")  # what core.*.request_id accept (V0023)
CLIENT = "bazaar"


def current() -> str:
    given = os.environ.get("BAZAAR_REQUEST_ID")
    if given:
        if not PATTERN.fullmatch(given):
            raise BazaarError(
                "BAZAAR_REQUEST_ID must be 8 to 40 letters, digits, '.', '_' or '-'",
                exit_code=EXIT_BAD_ARGUMENT,
            )
        return given
    global _generated
    if _generated is None:
        _generated = new()
    return _generated


_generated: str | None = None  # this process's own id, made on first use


def new() -> str:
    return f"{time.time_ns() // 1_000_000:x}-{secrets.token_hex(4)}"


def application_name(client: str = CLIENT) -> str:
    """`client/request id`: the convention every caller of the api may follow (README)."""
    return f"{client}/{current()}"
