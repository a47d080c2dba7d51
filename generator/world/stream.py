"""Rows on their way to COPY: each table sent in chunks, one table at a time, in the order opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from generator.binary import HEADER, TRAILER

CHUNK_ROWS = 5_000


class Send(Protocol):
    def __call__(self, message: tuple[str, str, object]) -> None: ...


class Table:
    """Rows of one table, sent in chunks of COPY text (or of binary COPY, BINARY: written with
    `raw`). COPY fills one table at a time: a table written while another is still open waits in
    memory until its turn (see Tables)."""

    def __init__(self, tables: Tables, name: str, columns: Sequence[str], binary: bool = False) -> None:
        self.tables = tables
        self.name = name
        self.columns = tuple(columns)
        self.binary = binary
        self.lines: list[str] = []
        self.chunks: list[tuple[bytes, int]] = [(HEADER, 0)] if binary else []
        self.rows = 0
        self.closed = False

    def raw(self, chunk: bytes, rows: int) -> None:
        """ROWS rows already in binary COPY format."""
        self.chunks.append((chunk, rows))
        if self.tables.streaming(self):
            self.flush()

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= CHUNK_ROWS and self.tables.streaming(self):
            self.flush()

    def flush(self) -> None:
        for data_, rows in self.chunks:
            self.rows += rows
            self.tables.send(("data", self.name, (data_, rows)))
        self.chunks = []
        for start in range(0, len(self.lines), CHUNK_ROWS):
            chunk = self.lines[start : start + CHUNK_ROWS]
            self.rows += len(chunk)
            self.tables.send(("data", self.name, (("\n".join(chunk) + "\n").encode(), len(chunk))))
        self.lines = []

    def close(self) -> None:
        if self.binary:
            self.chunks.append((TRAILER, 0))
        self.closed = True
        self.tables.closed(self)


class Tables:
    """The order tables reach COPY in: the first opened streams, the others queue behind it."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.open: list[Table] = []

    def table(self, name: str, columns: Sequence[str], binary: bool = False) -> Table:
        table = Table(self, name, columns, binary)
        self.open.append(table)
        if len(self.open) == 1:
            self.send(("begin", name, (table.columns, binary)))
        return table

    def streaming(self, table: Table) -> bool:
        return self.open[0] is table

    def closed(self, table: Table) -> None:
        while self.open and self.open[0].closed:
            done = self.open.pop(0)
            done.flush()
            self.send(("end", done.name, done.rows))
            if self.open:
                self.send(("begin", self.open[0].name, (self.open[0].columns, self.open[0].binary)))
                self.open[0].flush()
