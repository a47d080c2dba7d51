"""The log lines of the stack's Python monitoring programs: one JSON object per line on stdout
(supervisord writes it to log/NAME.log), with a timestamp, a level and a message."""

from __future__ import annotations

import json
from datetime import UTC, datetime


def log(level: str, message: str, **fields: object) -> None:
    line = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level, "msg": message}
    print(json.dumps(line | fields, ensure_ascii=False), flush=True)
