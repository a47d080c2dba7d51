"""SQL the Python layer runs, kept in ``bazaar/sql/<name>.sql`` and loaded by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DIR = Path(__file__).with_name("sql")


@cache
def load(name: str) -> str:
    """The text of bazaar/sql/NAME.sql: trusted SQL shipped with the package, never user input."""
    return (_DIR / f"{name}.sql").read_text()
