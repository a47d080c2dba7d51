"""The loader's SQL lives in generator/sql/*.sql, loaded by name: every name it loads is a file,
every file is loaded, and no statement is left in a Python string."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import REPO

GENERATOR = REPO / "generator"
LOADED = re.compile(r"""\b(?:query|template)\(\s*"([a-z_]+)\"""")
# a statement's opening words at the start of a string literal
STATEMENT = re.compile(
    r"""["'](?:select|insert|update|delete|create|alter|drop|truncate|copy|analyze|set)\s"""
)


def _python(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_loaded_name_is_a_file_and_every_file_is_loaded() -> None:
    names = {name for path in GENERATOR.rglob("*.py") for name in LOADED.findall(_python(path))}
    files = {path.stem for path in (GENERATOR / "sql").glob("*.sql")}
    assert names == files


def test_no_sql_in_python_strings() -> None:
    found = [
        f"{path.relative_to(REPO)}: {match.group(0)}"
        for path in sorted(GENERATOR.rglob("*.py"))
        for match in STATEMENT.finditer(_python(path))
    ]
    assert found == []
