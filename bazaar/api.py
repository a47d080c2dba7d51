"""Calling api.* functions: the one place the CLI turns a function name and arguments into a
query, and a recorded failure (a WARNING with a SQLSTATE and no row) into an error."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.errors import Diagnostic
from psycopg.rows import dict_row

from bazaar.errors import BazaarError, exit_code_for

# SQLSTATE classes a function may WARN with instead of raising, when the failure itself must be
# committed (docs/adr/0005-failures-that-must-be-remembered.md).
_FAILURE_CLASSES = ("28",)


def call(
    conn: psycopg.Connection[Any], schema: str, function: str, *args: Any, **named: Any
) -> list[dict[str, Any]]:
    """Rows of ``schema.function(*args, name => value, ...)``; values always travel as parameters."""
    arguments = [sql.Placeholder()] * len(args) + [
        sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder()) for name in named
    ]
    query = sql.SQL("select * from {}.{}({})").format(
        sql.Identifier(schema), sql.Identifier(function), sql.SQL(", ").join(arguments)
    )
    values = [*args, *named.values()]
    warnings: list[BazaarError] = []

    def on_notice(diag: Diagnostic) -> None:
        if diag.sqlstate and diag.sqlstate.startswith(_FAILURE_CLASSES):
            warnings.append(
                BazaarError(
                    diag.message_primary or "refused",
                    exit_code=exit_code_for(diag.sqlstate),
                    sqlstate=diag.sqlstate,
                    detail=diag.message_detail,
                    hint=diag.message_hint,
                )
            )

    conn.add_notice_handler(on_notice)
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, values).fetchall()
    finally:
        conn.remove_notice_handler(on_notice)
    if not rows and warnings:
        raise warnings[0]
    return rows


def one(
    conn: psycopg.Connection[Any], schema: str, function: str, *args: Any, **named: Any
) -> dict[str, Any]:
    """The single row a function returns (a scalar function's row has one column)."""
    rows = call(conn, schema, function, *args, **named)
    if len(rows) != 1:
        raise BazaarError(f"{schema}.{function} returned {len(rows)} rows, expected one")
    return rows[0]
