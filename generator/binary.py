"""COPY's binary format built with numpy: rows of one shape as one fixed-width record array.

A binary COPY row is a 16-bit field count, then per field a 32-bit length (-1: NULL) and the value
in network byte order; bigint is 8 bytes, integer and date 4, timestamptz 8 (microseconds since
2000-01-01 UTC), text its UTF-8 bytes. When every row of a group has the same NULLs and the same
text lengths, the group is a numpy structured array whose bytes are the COPY rows: millions of
rows are formatted in milliseconds, and PostgreSQL parses no text. The contact-click log, a third
of all rows at any scale, is written this way (generator/world/engagement.py → write_clicks).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)
PG_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z in Unix seconds
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)

# a field of a row shape: a bigint, an integer (or date), a text of fixed length, or NULL
Field = tuple[str, str | int | None]


def generator(seed: int, name: str) -> np.random.Generator:
    """A numpy random stream for SEED and NAME, the same on every run and machine."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:8], "big")))


def records(fields: Sequence[Field], values: dict[str, Any], count: int) -> bytes:
    """COUNT rows of one shape as binary COPY bytes. FIELDS: (name, "int8" | "int4" | a text's
    byte length | None for NULL); VALUES: name -> array of COUNT values or one value (texts as
    bytes)."""
    layout: list[tuple[str, str]] = [("fields", ">i2")]
    for name, kind in fields:
        layout.append((f"{name}_length", ">i4"))
        if kind == "int8":
            layout.append((name, ">i8"))
        elif kind == "int4":
            layout.append((name, ">i4"))
        elif isinstance(kind, int):
            layout.append((name, f"S{kind}"))
    rows = np.empty(count, dtype=np.dtype(layout))
    rows["fields"] = len(fields)
    for name, kind in fields:
        rows[f"{name}_length"] = (
            -1 if kind is None else 8 if kind == "int8" else 4 if kind == "int4" else kind
        )
        if kind is not None:
            rows[name] = values[name]
    return rows.tobytes()


def timestamps(seconds: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """timestamptz values (microseconds since 2000-01-01 UTC) of Unix seconds."""
    return (seconds - PG_EPOCH) * 1_000_000


def dates(seconds: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """date values (days since 2000-01-01) of the UTC days of Unix seconds."""
    return (seconds - PG_EPOCH) // 86_400


def hex16(values: npt.NDArray[np.uint64]) -> npt.NDArray[Any]:
    """16 lower-case hex digits of each 64-bit value, as 16-byte strings."""
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = ((values[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)
    return np.ascontiguousarray(HEX[nibbles]).view("S16").ravel()
