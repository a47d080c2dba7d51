"""The migration runner: `bazaar db migrate | status | verify` (docs/adr/0001-migrations.md).

* ``sql/migrations/V####__name.sql`` run once, in version order, each in its own transaction,
  recorded in ``ops.schema_migrations`` with a SHA-256 checksum. An applied file that changed
  (or vanished) stops ``migrate`` and fails ``verify``.
* ``sql/functions/core/**.sql``, the rest of ``sql/functions/**.sql``, then ``sql/views/**.sql``
  (each sorted by path) are repeatable: when any of them is new or changed, the repeatable
  surface is dropped (every api/analytics view, every core/api/analytics/ops routine that only
  routines and views depend on; ``bazaar/sql/catalog_drop_surface.sql``) and all of the files
  are re-applied in that order, in one transaction. A renamed or removed function disappears,
  a changed signature leaves no old overload behind, and the database holds exactly what the
  files say. Routines a trigger, column, constraint or index uses stay and are replaced in place.
* A session-level advisory lock serialises concurrent migrators; the second one waits, then
  finds nothing left to do.
* Scripts run statement by statement as ``bazaar_owner`` (so it owns what they create), unless
  the script's header says ``-- bazaar:as-admin`` (roles, extensions); a failure rolls the
  script back and names the file and line.
* Live traffic comes first (docs/conventions.md, "Migrations under load"): every statement runs
  with ``lock_timeout`` (Locks.timeout_ms), so a statement that must wait for a lock (a long
  transaction on the table) gives up before the queries queued behind it notice; the script's
  transaction is rolled back and tried again after a pause, up to Locks.attempts times.
* A migration whose header says ``-- bazaar:no-transaction`` runs statement by statement in
  autocommit, for what cannot run in a transaction block (``create index concurrently``,
  ``alter table … validate constraint`` in a transaction of its own). A statement that found a
  lock taken is retried alone; the ``concurrently`` statements wait without a lock_timeout (they
  take no lock that blocks reads or writes, and one cut short leaves an invalid index behind).
  Such a script is recorded once every statement succeeded, so it must be safe to run again
  (``if not exists``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from bazaar import queries, sqlscript
from bazaar.errors import EXIT_FAILURE, EXIT_WRONG_STATE, BazaarError, exit_code_for

Kind = Literal["versioned", "repeatable"]

OWNER_ROLE = "bazaar_owner"
# pg_advisory_lock key: the bytes "bazaarMG" as a bigint. Any constant works; it must only
# not collide with another application's advisory locks in the same database.
LOCK_KEY = int.from_bytes(b"bazaarMG", "big", signed=True)
# Helpers first (api functions call them, and a `language sql` body is resolved when created),
# then every other function folder, then views; each folder sorted by path.
REPEATABLE_DIRS = ("functions/core", "functions", "views")
MANAGED_SCHEMAS = ["core", "api", "analytics", "ops", "monitoring"]
SCRIPT_SEARCH_PATH = "pg_catalog, public"

_VERSIONED = re.compile(r"^V(?P<version>\d{4,})__(?P<name>[a-z0-9_]+)\.sql$")
_DIRECTIVE = re.compile(r"^--\s*bazaar:(?P<name>[a-z-]+)\s*$")
_KNOWN_DIRECTIVES = {"as-admin", "no-transaction"}
LOCK_NOT_AVAILABLE = "55P03"
# statements that take no lock blocking reads or writes and must not be cut short by lock_timeout
_CONCURRENTLY = re.compile(
    r"^\s*(create\s+(unique\s+)?index|drop\s+index|reindex\s+\w+)\s+concurrently\b", re.I
)


@dataclass(frozen=True)
class Locks:
    """How a migration waits for locks held by live traffic: each statement waits at most
    TIMEOUT_MS for a lock, and a script that gave up is tried ATTEMPTS times in all, pausing
    PAUSE_S times the attempt number (at most 10 s) in between."""

    timeout_ms: int = 2000
    attempts: int = 10
    pause_s: float = 1.0

    def pause(self, attempt: int) -> float:
        return min(10.0, self.pause_s * attempt)


LOCKS = Locks()


class MigrationError(BazaarError):
    """A script failed, or the repository and the database disagree in a way migrate must not
    paper over. ``script`` and ``line`` say where, when one place is to blame."""

    def __init__(
        self, message: str, *, script: str | None = None, line: int | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.script = script
        self.line = line


@dataclass(frozen=True)
class Script:
    kind: Kind
    name: str  # V0001__foundation.sql, or functions/api/accounts/register.sql
    path: Path
    text: str
    version: int | None
    as_admin: bool
    in_transaction: bool = True  # False: `-- bazaar:no-transaction`, statements in autocommit

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class Applied:
    script: str
    kind: Kind
    version: int | None
    checksum: str
    applied_at: datetime


@dataclass(frozen=True)
class StatusRow:
    kind: Kind
    script: str
    state: Literal["applied", "pending", "changed", "missing file"]
    applied_at: datetime | None


@dataclass(frozen=True)
class Finding:
    what: str  # "migration", "repeatable", "function", "view", ...
    name: str
    problem: str


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# -- reading the repository -----------------------------------------------------------------


def discover(sql_dir: Path) -> tuple[list[Script], list[Script]]:
    """The versioned migrations (by version) and repeatable files (in apply order) of SQL_DIR."""
    versioned: list[Script] = []
    seen: dict[int, str] = {}
    migrations = sql_dir / "migrations"
    for path in sorted(migrations.glob("*")) if migrations.is_dir() else []:
        if path.is_dir() or path.name.startswith("."):
            continue
        m = _VERSIONED.match(path.name)
        if not m:
            raise MigrationError(
                f"{path}: not a migration file name",
                hint="versioned migrations are named V<4+ digits>__<lower_snake_name>.sql",
            )
        version = int(m.group("version"))
        if version in seen:
            raise MigrationError(f"{path.name} and {seen[version]} have the same version {version}")
        seen[version] = path.name
        versioned.append(_script("versioned", path.name, path, version))
    versioned.sort(key=lambda s: s.version or 0)

    repeatable: list[Script] = []
    seen_paths: set[Path] = set()
    for folder in REPEATABLE_DIRS:
        root = sql_dir / folder
        files = sorted(root.rglob("*.sql"), key=lambda p: p.relative_to(sql_dir).as_posix())
        for path in files:
            if path not in seen_paths:
                seen_paths.add(path)
                repeatable.append(_script("repeatable", path.relative_to(sql_dir).as_posix(), path, None))
    return versioned, repeatable


def _script(kind: Kind, name: str, path: Path, version: int | None) -> Script:
    text = path.read_text()
    directives: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        m = _DIRECTIVE.match(line)
        if m:
            if m.group("name") not in _KNOWN_DIRECTIVES:
                raise MigrationError(f"{name}: unknown directive '-- bazaar:{m.group('name')}'")
            directives.add(m.group("name"))
    if "no-transaction" in directives and kind != "versioned":
        raise MigrationError(f"{name}: only a versioned migration may say '-- bazaar:no-transaction'")
    return Script(
        kind, name, path, text, version, "as-admin" in directives, "no-transaction" not in directives
    )


# -- talking to the database ---------------------------------------------------------------


@contextmanager
def _locked(conn: psycopg.Connection[Any]) -> Iterator[None]:
    conn.execute(queries.load("migrations_lock"), {"key": LOCK_KEY})
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.execute(queries.load("migrations_unlock"), {"key": LOCK_KEY})


def _applied(conn: psycopg.Connection[Any]) -> dict[str, Applied]:
    exists = conn.execute(queries.load("migrations_table_exists")).fetchone()
    if not exists or not exists[0]:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries.load("migrations_applied")).fetchall()
    return {r["script"]: Applied(**r) for r in rows}


def _statements(script: Script) -> list[sqlscript.Statement]:
    try:
        return sqlscript.split(script.text)
    except sqlscript.ScriptSyntaxError as exc:
        raise MigrationError(
            f"{script.name} line {exc.line}: {exc}", script=script.name, line=exc.line
        ) from None


def _run_script(conn: psycopg.Connection[Any], script: Script) -> None:
    """Execute SCRIPT inside the caller's transaction, statement by statement."""
    statements = _statements(script)
    conn.execute(sql.SQL("set local search_path = {}").format(sql.SQL(SCRIPT_SEARCH_PATH)))
    if not script.as_admin:
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))
    for statement in statements:
        try:
            conn.execute(statement.text.encode(), prepare=False)
        except psycopg.Error as exc:
            raise _failure(script, statement, exc) from None
        status = conn.info.transaction_status
        if status != psycopg.pq.TransactionStatus.INTRANS:
            raise MigrationError(
                f"{script.name} line {statement.line}: a script must not end its transaction",
                script=script.name,
                line=statement.line,
                hint="remove BEGIN/COMMIT/ROLLBACK: the runner wraps each script in a transaction",
            )
    conn.execute("reset role")


def _retrying(
    script: str, locks: Locks, progress: Progress, attempt: Callable[[], None], committed: str = ""
) -> None:
    """Run ATTEMPT until it does not stop on a lock (lock_timeout), at most LOCKS.attempts times.
    A lock timeout outside a script's statements (dropping the surface, the bookkeeping) counts
    too. COMMITTED: what already took effect when it gives up, for the hint."""
    for n in range(1, locks.attempts + 1):
        try:
            attempt()
            return
        except (MigrationError, psycopg.Error) as exc:
            if exc.sqlstate != LOCK_NOT_AVAILABLE:
                raise
            if n == locks.attempts:
                error = (
                    exc
                    if isinstance(exc, MigrationError)
                    else MigrationError(
                        f"{script}: {exc}".strip(), sqlstate=LOCK_NOT_AVAILABLE, exit_code=EXIT_WRONG_STATE
                    )
                )
                error.hint = (
                    f"gave up after {locks.attempts} attempts of {locks.timeout_ms} ms each: a long "
                    f"transaction holds the lock (pg_stat_activity); end it or migrate later{committed}"
                )
                raise error from None
            pause = locks.pause(n)
            why = str(exc).strip().splitlines()[0]
            progress(
                f"{script}: a lock is taken ({why}); trying again in {pause:.0f} s ({n}/{locks.attempts})"
            )
            time.sleep(pause)


def _apply_in_transaction(
    conn: psycopg.Connection[Any], name: str, locks: Locks, progress: Progress, work: Callable[[], None]
) -> None:
    """WORK in a transaction of its own whose statements wait LOCKS.timeout_ms at most for a lock;
    the whole transaction is tried again when one gave up."""

    def attempt() -> None:
        with conn.transaction():
            conn.execute(sql.SQL("set local lock_timeout = {}").format(locks.timeout_ms))
            work()

    _retrying(name, locks, progress, attempt)


def _run_without_transaction(
    conn: psycopg.Connection[Any], script: Script, locks: Locks, progress: Progress
) -> None:
    """A `-- bazaar:no-transaction` migration: each statement in autocommit, retried alone when it
    found a lock taken; the concurrently statements wait for their lock as long as it takes."""
    statements = _statements(script)
    try:
        conn.execute(sql.SQL("set search_path = {}").format(sql.SQL(SCRIPT_SEARCH_PATH)))
        if not script.as_admin:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(OWNER_ROLE)))
        for statement in statements:
            timeout = 0 if _CONCURRENTLY.match(statement.text) else locks.timeout_ms
            took_effect = f"the statements before line {statement.line} took effect (no transaction)"

            def attempt(
                statement: sqlscript.Statement = statement,
                timeout: int = timeout,
                took_effect: str = took_effect,
            ) -> None:
                conn.execute(sql.SQL("set lock_timeout = {}").format(timeout))
                try:
                    conn.execute(statement.text.encode(), prepare=False)
                except psycopg.Error as exc:
                    failure = _failure(script, statement, exc)
                    if exc.sqlstate != LOCK_NOT_AVAILABLE:
                        failure.hint = (
                            f"{failure.hint + '; ' if failure.hint else ''}{took_effect}: fix the script "
                            "so that it can run again (if not exists), and migrate again"
                        )
                    raise failure from None

            _retrying(
                script.name,
                locks,
                progress,
                attempt,
                f"; {took_effect}" if statement is not statements[0] else "",
            )
    finally:
        if not conn.broken:
            conn.execute("reset lock_timeout")
            conn.execute("reset role")
            conn.execute("reset search_path")


def _refuse_invalid_indexes(conn: psycopg.Connection[Any], script: Script) -> None:
    """After a no-transaction script: an invalid index (a concurrent build cut short, then
    skipped by `if not exists` on the next run) fails the script instead of being recorded."""
    invalid = [r[0] for r in conn.execute(queries.load("invalid_indexes"), {"schemas": MANAGED_SCHEMAS})]
    if invalid:
        raise MigrationError(
            f"{script.name}: invalid index(es) {', '.join(invalid)}: a concurrent build failed",
            script=script.name,
            exit_code=EXIT_WRONG_STATE,
            hint=f"drop index concurrently {invalid[0]}; then migrate again to build it anew",
        )


def _failure(script: Script, statement: sqlscript.Statement, exc: psycopg.Error) -> MigrationError:
    position = exc.diag.statement_position
    line = statement.line_of(int(position)) if position else statement.line
    message = exc.diag.message_primary or str(exc)
    detail = "; ".join(
        part for part in (exc.diag.message_detail, exc.diag.context and exc.diag.context.strip()) if part
    )
    return MigrationError(
        f"{script.name} line {line}: {message}",
        script=script.name,
        line=line,
        exit_code=exit_code_for(exc.sqlstate) if exc.sqlstate else EXIT_FAILURE,
        sqlstate=exc.sqlstate,
        detail=detail or None,
        hint=exc.diag.message_hint,
    )


def _record(conn: psycopg.Connection[Any], script: Script, elapsed_ms: int) -> None:
    conn.execute(
        queries.load("migrations_record"),
        {
            "script": script.name,
            "kind": script.kind,
            "version": script.version,
            "checksum": script.checksum,
            "execution_ms": elapsed_ms,
        },
    )


def _check_history(versioned: list[Script], applied: dict[str, Applied]) -> None:
    """Refuse to go on when an applied migration changed, vanished, or a gap was skipped."""
    by_name = {s.name: s for s in versioned}
    problems: list[str] = []
    for a in applied.values():
        if a.kind != "versioned":
            continue
        script = by_name.get(a.script)
        if script is None:
            problems.append(f"{a.script} was applied but its file is gone")
        elif script.checksum != a.checksum:
            problems.append(f"{a.script} changed after it was applied")
    newest = max((a.version or 0 for a in applied.values() if a.kind == "versioned"), default=0)
    for s in versioned:
        if s.name not in applied and (s.version or 0) < newest:
            problems.append(f"{s.name} is older than the newest applied migration (V{newest:04d})")
    if problems:
        raise MigrationError(
            "; ".join(problems),
            exit_code=EXIT_WRONG_STATE,
            hint="applied migrations are immutable: restore the file and add a new migration instead",
        )


def _repeatables_changed(repeatable: list[Script], applied: dict[str, Applied]) -> bool:
    recorded = {name for name, a in applied.items() if a.kind == "repeatable"}
    return recorded != {s.name for s in repeatable} or any(
        applied[s.name].checksum != s.checksum for s in repeatable
    )


def migrate(
    conn: psycopg.Connection[Any],
    sql_dir: Path,
    progress: Progress = _quiet,
    *,
    reapply: bool = False,
    locks: Locks = LOCKS,
) -> list[str]:
    """Bring the database to the repository's state; returns the scripts applied, in order.

    CONN must be in autocommit mode: each script gets its own transaction. REAPPLY re-creates
    every repeatable object even when no file changed: it repairs objects edited by hand. LOCKS:
    how long a statement waits for a lock, and how often a script is tried.
    """
    if not conn.autocommit:
        raise ValueError("migrate needs an autocommit connection")
    versioned, repeatable = discover(sql_dir)
    done: list[str] = []
    with _locked(conn):
        with conn.transaction():
            for statement in sqlscript.split(queries.load("migrations_bootstrap")):
                conn.execute(statement.text.encode())
        applied = _applied(conn)
        _check_history(versioned, applied)
        for script in versioned:
            if script.name in applied:
                continue
            progress(f"applying {script.name}")
            started = time.monotonic()
            if script.in_transaction:

                def work(script: Script = script, started: float = started) -> None:
                    _run_script(conn, script)
                    _record(conn, script, int((time.monotonic() - started) * 1000))

                _apply_in_transaction(conn, script.name, locks, progress, work)
            else:
                _run_without_transaction(conn, script, locks, progress)
                _refuse_invalid_indexes(conn, script)
                with conn.transaction():
                    _record(conn, script, int((time.monotonic() - started) * 1000))
            done.append(script.name)
        applied = _applied(conn)
        if reapply or _repeatables_changed(repeatable, applied):
            batch: list[str] = []

            def surface() -> None:
                batch.clear()
                conn.execute("set local search_path = pg_catalog")
                conn.execute(queries.load("catalog_drop_surface").encode())
                for script in repeatable:
                    changed = (
                        reapply
                        or script.name not in applied
                        or applied[script.name].checksum != script.checksum
                    )
                    if changed:
                        progress(f"applying {script.name}")
                    started = time.monotonic()
                    _run_script(conn, script)
                    _record(conn, script, int((time.monotonic() - started) * 1000))
                    if changed:
                        batch.append(script.name)
                present = {s.name for s in repeatable}
                for name, a in applied.items():
                    if a.kind == "repeatable" and name not in present:
                        progress(f"forgetting {name} (file removed; its objects are gone)")
                        conn.execute(queries.load("migrations_forget"), {"script": name})

            _apply_in_transaction(conn, "the functions and views", locks, progress, surface)
            done += batch
    return done


def status(conn: psycopg.Connection[Any], sql_dir: Path) -> list[StatusRow]:
    versioned, repeatable = discover(sql_dir)
    applied = _applied(conn)
    rows: list[StatusRow] = []
    for script in [*versioned, *repeatable]:
        a = applied.get(script.name)
        if a is None:
            rows.append(StatusRow(script.kind, script.name, "pending", None))
        elif a.checksum != script.checksum:
            rows.append(StatusRow(script.kind, script.name, "changed", a.applied_at))
        else:
            rows.append(StatusRow(script.kind, script.name, "applied", a.applied_at))
    present = {s.name for s in [*versioned, *repeatable]}
    for name, a in applied.items():
        if name not in present:
            rows.append(StatusRow(a.kind, name, "missing file", a.applied_at))
    return rows


def verify(conn: psycopg.Connection[Any], sql_dir: Path) -> list[Finding]:
    """What differs between the database and the repository; empty when they agree.

    Besides comparing checksums, it checks the grants against the security model (applications
    reach only ``api``, analysts only ``analytics``, nobody ``core``/``ops``/``ext``), and
    re-creates every repeatable object inside a transaction that is rolled back, comparing the
    catalog before and after: an object edited by hand, dropped by hand, or added by hand to
    ``api``/``analytics`` shows up as a finding.
    """
    findings = [
        Finding(row.kind if row.kind == "repeatable" else "migration", row.script, row.state)
        for row in status(conn, sql_dir)
        if row.state != "applied"
    ]
    if any(f.what == "migration" for f in findings):
        return findings  # the schema is not at the repository's version: the catalog diff would be noise
    findings += [Finding(kind, name, problem) for kind, name, problem in _privilege_violations(conn)]
    _, repeatable = discover(sql_dir)
    with _locked(conn), conn.transaction(force_rollback=True):
        conn.execute("set local lock_timeout = '10s'")
        conn.execute("set local search_path = pg_catalog")
        before = _fingerprints(conn)
        conn.execute(queries.load("catalog_drop_surface").encode())
        for script in repeatable:
            _run_script(conn, script)
        conn.execute("set local search_path = pg_catalog")
        after = _fingerprints(conn)
    for key in sorted(before.keys() | after.keys()):
        kind, identity = key
        if key not in after:
            findings.append(Finding(kind, identity, "in the database but in no repository file"))
        elif key not in before:
            findings.append(Finding(kind, identity, "in the repository but missing from the database"))
        elif before[key] != after[key]:
            findings.append(Finding(kind, identity, "differs from the repository"))
    return findings


def _privilege_violations(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    if conn.execute(queries.load("security_model_exists")).fetchone() != (True,):
        return []  # before V0001 there is no security model to check
    return [tuple(r) for r in conn.execute(queries.load("privilege_violations")).fetchall()]


def _fingerprints(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], str]:
    rows = conn.execute(queries.load("catalog_fingerprints"), {"schemas": MANAGED_SCHEMAS}).fetchall()
    return {(kind, identity): fingerprint for kind, identity, fingerprint in rows}
