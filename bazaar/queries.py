"""SQL the Python layer runs, kept in ``<package>/sql/<name>.sql`` and loaded by name: bazaar's
own in ``bazaar/sql/``, the data generator's in ``generator/sql/``. Both ship as package data."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str, package: str = "bazaar") -> str:
    """The text of PACKAGE/sql/NAME.sql: trusted SQL shipped with the package, never user input."""
    return (files(package) / "sql" / f"{name}.sql").read_text(encoding="utf-8")
