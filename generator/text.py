"""COPY text format: values and rows exactly as PostgreSQL reads them."""

from __future__ import annotations

import json
import time
from typing import Any

NULL = r"\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_DAYS: dict[int, str] = {}


def esc(value: str) -> str:
    """A text value for COPY: backslash, tab and line breaks escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def opt(value: object) -> str:
    """A value that may be NULL (ints and already-escaped text)."""
    return NULL if value is None else str(value)


# "HH:MM:SS+00" for every second of a day: formatting a timestamp is two lookups
_CLOCK = [f"{h:02d}:{m:02d}:{sec:02d}+00" for h in range(24) for m in range(60) for sec in range(60)]


def ts(seconds: int) -> str:
    """A timestamptz from seconds since the epoch (UTC), fast: the date part is cached per day."""
    day, rest = divmod(seconds, 86_400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = time.strftime("%Y-%m-%d ", time.gmtime(day * 86_400))
    return prefix + _CLOCK[rest]


def ts_opt(seconds: int | None) -> str:
    return NULL if seconds is None else ts(seconds)


def day(seconds: int) -> str:
    """The UTC date of a moment."""
    return ts(seconds)[:10]


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def js(value: Any) -> str:
    """A json/jsonb value for COPY: compact, keys in the order given, escaped."""
    return esc(_ENCODE(value))


def opt_json(value: int | None) -> str:
    """An integer or null, inside JSON text."""
    return "null" if value is None else str(value)


def array(values: list[str] | tuple[str, ...]) -> str:
    """A text[] of simple words (no quotes, commas or braces needed)."""
    return "{" + ",".join(values) + "}"
