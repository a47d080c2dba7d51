"""JSON log lines, one object per line on stderr: the log of every Python process of bazaar.

The stack's programs (exporters, the alert receiver, the backup scheduler) always log this way;
supervisord writes their stderr to log/NAME.log. The CLI does when asked (`--log-format json` or
BAZAAR_LOG_FORMAT=json): its errors and progress become such lines, and every command ends with
one line naming it, its exit code, its duration and its request id. Fields are what the program
passes; arguments of a command are never logged (they hold passwords and tokens).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from bazaar.errors import one_line

LEVELS = ("debug", "info", "warning", "error")


def line(level: str, message: str, **fields: object) -> str:
    """One log record as a JSON line (without the newline)."""
    record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level, "msg": message}
    return json.dumps(record | fields, ensure_ascii=False, default=str)


def log(level: str, message: str, **fields: object) -> None:
    print(line(level, message, **fields), file=sys.stderr, flush=True)


def error(message: str, exc: BaseException, **fields: object) -> None:
    """An error line with the exception's text on one line, cut to 300 characters (a libpq
    message names a host and a reason, never a password: DSNs here carry passfiles)."""
    log("error", message, error=one_line(str(exc))[:300] or type(exc).__name__, **fields)
