"""Connections: one place that builds loopback DSNs, opens connections and turns failures into
one-line errors (exit 7); and creating a database, which no transaction can do."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bazaar import queries, request
from bazaar.errors import EXIT_UNREACHABLE, BazaarError, one_line

CONNECT_TIMEOUT_S = 5
LOOPBACK = "127.0.0.1"


def loopback_dsn(port: int, user: str, dbname: str, **params: str | int) -> str:
    """A DSN for the server on 127.0.0.1:PORT, with further libpq PARAMS (passfile, connect_timeout, …).

    Built by psycopg's make_conninfo, which quotes each value as libpq wants it.
    """
    return make_conninfo("", host=LOOPBACK, port=port, dbname=dbname, user=user, **params)


def describe(dsn: str) -> str:
    """host:port (or several, for a multi-host DSN) that a DSN points at, for messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unparsable DSN)"
    hosts = str(params.get("host") or params.get("hostaddr") or "local socket").split(",")
    ports = str(params.get("port") or "5432").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    return ",".join(f"{h}:{p}" for h, p in zip(hosts, ports, strict=False))


def connect(dsn: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open a connection or raise BazaarError naming what was tried and why it failed."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise BazaarError(f"invalid DSN: {one_line(str(exc))}", exit_code=EXIT_UNREACHABLE) from None
    defaults: dict[str, str | int] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": request.application_name(),  # the request id, in the server's log lines
    }
    conninfo = make_conninfo(dsn, **{k: v for k, v in defaults.items() if k not in params})
    try:
        return psycopg.connect(conninfo, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        reason = _reason(str(exc))
        raise BazaarError(
            f"cannot connect to {describe(dsn)}: {reason}",
            exit_code=EXIT_UNREACHABLE,
            sqlstate=exc.sqlstate or "08001",
        ) from None


def _reason(text: str) -> str:
    # libpq: 'connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server…'
    first = one_line(text.split("\n\t")[0]) if text else "unknown error"
    _, _, tail = first.rpartition(" failed: ")
    return tail or first


def database_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return conn.execute(queries.load("database_exists"), {"name": name}).fetchone() is not None


def create_database(conn: psycopg.Connection[Any], name: str) -> None:
    """CREATE DATABASE NAME; CONN must be in autocommit mode."""
    conn.execute(sql.SQL(queries.load("database_create")).format(name=sql.Identifier(name)))
