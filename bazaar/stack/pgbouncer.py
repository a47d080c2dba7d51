"""PgBouncer: its auth_file (the SCRAM verifiers it shares with the server) and its console
(PAUSE / RESUME around a switchover). docs/adr/0004-stack-processes-and-secrets.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg

from bazaar import config, scram
from bazaar.db import loopback_dsn
from bazaar.errors import BazaarError
from bazaar.stack.users import LOGIN_ROLES, PGBOUNCER_ADMIN

AUTH_FILE = "userlist.txt"  # in conf/


def verifiers(conf_dir: Path) -> dict[str, str]:
    """user -> SCRAM verifier, as in PgBouncer's auth_file (empty before the first render)."""
    result: dict[str, str] = {}
    try:
        text = (conf_dir / AUTH_FILE).read_text()
    except FileNotFoundError:
        return result
    for line in text.splitlines():
        parts = line.split('"')
        if len(parts) >= 5:
            result[parts[1]] = parts[3]
    return result


def auth_file(conf_dir: Path, secrets: Mapping[str, str]) -> str:
    """PgBouncer's auth_file: a verifier per login role and for the console user.

    A verifier of the current file that still matches its password is kept (so the server's copy,
    set from this file, stays equal and a second `bazaar up` changes nothing).
    """
    current = verifiers(conf_dir)
    lines = []
    for user in (*LOGIN_ROLES, PGBOUNCER_ADMIN):
        password = secrets[user]
        kept = current.get(user)
        value = kept if kept and scram.matches(kept, password) else scram.verifier(password)
        lines.append(f'"{user}" "{value}"')
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def console_connection(ports: config.Ports, password: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to PgBouncer's console as the console user."""
    conninfo = loopback_dsn(
        ports.pgbouncer, PGBOUNCER_ADMIN, "pgbouncer", password=password, connect_timeout=5
    )
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
        yield conn


def console(conn: psycopg.Connection[Any], command: str) -> None:
    """One console command (PAUSE, RESUME, …), over the simple query protocol the console requires."""
    result = conn.pgconn.exec_(command.encode())
    if result.status not in (psycopg.pq.ExecStatus.COMMAND_OK, psycopg.pq.ExecStatus.TUPLES_OK):
        message = (result.error_message or b"").decode(errors="replace").strip()
        raise BazaarError(f"PgBouncer {command}: {message}")
