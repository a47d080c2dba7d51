"""Errors the CLI reports, and the mapping of SQLSTATEs to exit codes (docs/conventions.md → Errors)."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click
import psycopg

# Exit codes. 0 ok, 1 a failure that fits nowhere else (or findings, as `db verify`), 2 usage
# (click's own), then the classes of docs/conventions.md.
EXIT_FAILURE = 1
EXIT_BAD_ARGUMENT = 3
EXIT_NOT_FOUND = 4
EXIT_NOT_ALLOWED = 5
EXIT_WRONG_STATE = 6
EXIT_UNREACHABLE = 7

# Exact SQLSTATEs first, then whole classes (the first two characters).
_EXACT = {
    "23502": EXIT_BAD_ARGUMENT,  # not_null_violation: a required argument was missing
    "23503": EXIT_BAD_ARGUMENT,  # foreign_key_violation: it names something that does not exist
    "23514": EXIT_BAD_ARGUMENT,  # check_violation
    "23505": EXIT_WRONG_STATE,  # unique_violation: a conflict
    "40001": EXIT_WRONG_STATE,  # serialization_failure: a concurrent update won
    "40P01": EXIT_WRONG_STATE,  # deadlock_detected
    "P0002": EXIT_NOT_FOUND,  # no_data_found
    "42501": EXIT_NOT_ALLOWED,  # insufficient_privilege
    "BZ429": EXIT_NOT_ALLOWED,  # bazaar: too many attempts, try again later
    "57P01": EXIT_UNREACHABLE,  # admin_shutdown: the server went away
    "57P02": EXIT_UNREACHABLE,  # crash_shutdown
    "57P03": EXIT_UNREACHABLE,  # cannot_connect_now
}
_CLASSES = {
    "22": EXIT_BAD_ARGUMENT,  # data exception
    "28": EXIT_NOT_ALLOWED,  # invalid authorization specification
    "55": EXIT_WRONG_STATE,  # object not in prerequisite state
    "08": EXIT_UNREACHABLE,  # connection exception
}


def exit_code_for(sqlstate: str | None) -> int:
    """The CLI exit code for a SQLSTATE, as docs/conventions.md's table gives it."""
    if not sqlstate:
        return EXIT_FAILURE
    return _EXACT.get(sqlstate) or _CLASSES.get(sqlstate[:2], EXIT_FAILURE)


class BazaarError(click.ClickException):
    """An expected failure: printed as one `error:` line (plus its hint), never a traceback."""

    def __init__(
        self,
        message: str,
        *,
        exit_code: int = EXIT_FAILURE,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint

    @classmethod
    def from_psycopg(cls, exc: psycopg.Error, context: str | None = None) -> BazaarError:
        diag = exc.diag
        message = diag.message_primary or str(exc).strip().splitlines()[0]
        if context:
            message = f"{context}: {message}"
        return cls(
            message,
            exit_code=exit_code_for(exc.sqlstate),
            sqlstate=exc.sqlstate,
            detail=diag.message_detail,
            hint=diag.message_hint,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": self.message,
            "sqlstate": self.sqlstate,
            "detail": self.detail,
            "hint": self.hint,
            "exit_code": self.exit_code,
        }

    def show(self, file: IO[Any] | None = None) -> None:
        out = file if file is not None else sys.stderr
        print(f"error: {one_line(self.message)}", file=out)
        if self.detail:
            print(f"detail: {one_line(self.detail)}", file=out)
        if self.hint:
            print(f"hint: {one_line(self.hint)}", file=out)

    def show_json(self, file: IO[Any] | None = None) -> None:
        print(json.dumps(self.as_dict()), file=file if file is not None else sys.stdout)


def one_line(text: str) -> str:
    """Collapse a multi-line server or libpq message into one line."""
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
