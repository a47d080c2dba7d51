"""Load a generated marketplace into PostgreSQL: one transaction, COPY, indexes built once.

The fastest correct way (ADR 0010): inside one transaction the marketplace tables are truncated,
their foreign keys, primary/unique keys and indexes are dropped (their definitions kept from the
catalog), every table is streamed with COPY (FREEZE where PostgreSQL allows it: the table was
truncated in this transaction and is not partitioned), then the keys and indexes are rebuilt
from those very definitions, each in one pass, and the foreign keys re-validated in one join
each. A failure anywhere rolls all of it back: the database is as before. ANALYZE follows the
commit. A second process produces the rows while this one streams them, so Python and
PostgreSQL each have a core.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import multiprocessing
import os
import queue
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from tqdm import tqdm

from bazaar import queries
from bazaar.db import connect
from bazaar.errors import EXIT_WRONG_STATE, BazaarError
from generator.world import Catalog, Category, Config, Model, Settings, produce

# Shipped with the migrations, not generated: the category tree, the vehicle catalog, settings.
REFERENCE_TABLES = frozenset(
    {
        "settings",
        "categories",
        "attribute_definitions",
        "vehicle_makes",
        "vehicle_models",
        "vehicle_generations",
        "listing_transitions",
        "order_transitions",
        # not reference data, but state the generator has no history for: the bot's update offset
        "telegram_bot",
    }
)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def query(name: str) -> str:
    """generator/sql/NAME.sql: every statement the loader runs is kept there."""
    return queries.load(name, "generator")


def template(file: str, /, **parts: sql.Composable) -> sql.Composed:
    """generator/sql/FILE.sql with PARTS composed into its {placeholders}: identifiers, or key
    definitions read from the catalog, for the statements whose tables and columns vary. Values
    still travel as parameters."""
    return sql.SQL(query(file)).format(**parts)


@dataclass
class Step:
    """One table (rows copied, seconds copying, seconds building its keys and indexes) or one step."""

    name: str
    rows: int
    seconds: float
    build_seconds: float = 0.0

    def as_row(self) -> dict[str, Any]:
        rate = round(self.rows / self.seconds) if self.rows and self.seconds > 0 else None
        return {
            "step": self.name,
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "rows_per_s": rate,
            "index_seconds": round(self.build_seconds, 2),
        }


@dataclass
class Summary:
    scale: float
    seed: int
    as_of: str
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "as_of": self.as_of,
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "rows_per_s": round(self.rows / self.seconds) if self.seconds else None,
            "steps": [s.as_row() for s in self.steps],
        }


def marketplace_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Every table of schema core the generator fills (partitions are filled through their parent)."""
    rows = conn.execute(query("marketplace_tables")).fetchall()
    return [name for (name,) in rows if name not in REFERENCE_TABLES]


def filled_tables(conn: psycopg.Connection[Any], tables: list[str]) -> list[str]:
    return [
        t
        for t in tables
        if conn.execute(template("table_filled", table=sql.Identifier(t))).fetchone() == (True,)
    ]


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    categories = tuple(
        Category(id=i, slug=slug, kind=kind, lifetime=int(lifetime), path=tuple(path))
        for i, slug, kind, lifetime, path in conn.execute(query("catalog_categories"))
    )
    models = tuple(
        Model(id=i, make=make, name=name, years=tuple((a, b) for a, b in years))
        for i, make, name, years in conn.execute(query("catalog_models"))
    )
    if not categories or not models:
        raise BazaarError("the catalog is empty: migrate the database first (`bazaar db migrate`)")
    # like the categories' lifetimes: the settings of this database, whole seconds
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("catalog_settings")).fetchone()
    assert row is not None
    settings = Settings(**{name: int(value) for name, value in row.items()})
    return Catalog(categories=categories, models=models, settings=settings)


def password_hash(conn: psycopg.Connection[Any], seed: int, password: str | None) -> str:
    """The bcrypt hash every generated user gets, the same for the same seed. Without a password, a
    hash no password matches (nobody can sign in with one) — demo accounts are not an open door."""
    digest = hashlib.sha256(f"bazaar-generate:{seed}".encode()).digest() * 3
    chars = "".join(BCRYPT_ALPHABET[b % 64] for b in digest)
    if password is None:
        return "$2a$06$" + chars[:53]
    row = conn.execute(
        query("password_hash"), {"password": password, "salt": "$2a$06$" + chars[:22]}
    ).fetchone()
    assert row is not None
    return str(row[0])


@dataclass
class Definitions:
    """What is dropped for the load and rebuilt afterwards, as the catalog defines it."""

    keys: list[tuple[str, str, str]]  # table, constraint, definition (primary and unique keys)
    foreign_keys: list[tuple[str, str, str, str]]  # table, constraint, definition, referenced table
    indexes: list[tuple[str, str, str]]  # table, index, CREATE INDEX statement
    rebuilt: set[str] = field(default_factory=set)  # foreign keys added back so far

    @classmethod
    def read(cls, conn: psycopg.Connection[Any], tables: list[str]) -> Definitions:
        constraints = conn.execute(query("key_definitions"), {"tables": tables}).fetchall()
        indexes = conn.execute(query("index_definitions"), {"tables": tables}).fetchall()
        return cls(
            keys=[(t, name, d) for t, name, kind, d, _ in constraints if kind != "f"],
            foreign_keys=[(t, name, d, ref) for t, name, kind, d, ref in constraints if kind == "f"],
            # a partitioned table's index reads "ON ONLY": rebuilt, it must cover the partitions too
            indexes=[(t, name, d.replace(" ON ONLY ", " ON ", 1)) for t, name, d in indexes],
        )

    def drop(self, conn: psycopg.Connection[Any]) -> None:
        for table, name, *_ in [*self.foreign_keys, *self.keys]:
            conn.execute(template("drop_constraint", table=sql.Identifier(table), name=sql.Identifier(name)))
        for _, name, _ in self.indexes:
            conn.execute(template("drop_index", name=sql.Identifier(name)))

    def rebuild(
        self, conn: psycopg.Connection[Any], loaded: set[str], table: str
    ) -> Iterator[tuple[str, float]]:
        """After TABLE is loaded: its keys and indexes, then every foreign key whose two tables are
        now loaded (LOADED includes TABLE). Yields what took how long."""
        for t, name, definition in self.keys:
            if t == table:
                yield from _timed(conn, f"{t}: {name}", _add_constraint(t, name, definition))
        for t, name, statement in self.indexes:
            if t == table:
                yield from _timed(conn, name, sql.SQL(statement))  # from pg_get_indexdef
        for t, name, definition, referenced in self.foreign_keys:
            if table in (t, referenced) and t in loaded and referenced in loaded and name not in self.rebuilt:
                self.rebuilt.add(name)
                yield from _timed(conn, f"{t}: {name}", _add_constraint(t, name, definition))

    def missing(self) -> list[str]:
        """Foreign keys not rebuilt (a table of theirs was never loaded): the load must not commit."""
        return [name for _, name, _, _ in self.foreign_keys if name not in self.rebuilt]


def _add_constraint(table: str, name: str, definition: str) -> sql.Composed:
    return template(
        "add_constraint",
        table=sql.Identifier(table),
        name=sql.Identifier(name),
        definition=sql.SQL(definition),  # from pg_get_constraintdef
    )


def _timed(
    conn: psycopg.Connection[Any], name: str, statement: sql.SQL | sql.Composed
) -> Iterator[tuple[str, float]]:
    started = time.perf_counter()
    conn.execute(statement)
    yield name, time.perf_counter() - started


def _producer(config: Config, catalog: Catalog, out: Any, parent: int) -> None:
    """The second process: generate everything into the queue; a failure is reported, not lost.
    It leaves with os._exit: a forked child must not run the finalizers and atexit handlers it
    inherited from the loader (the CLI's, psycopg's)."""
    code = 0
    # SIGTERM must end us (terminate(), PDEATHSIG): drop whatever handlers the loader's process had
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    # the producer ends with the loader, however the loader ends (even SIGKILL): PR_SET_PDEATHSIG
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the loader died before the line above took effect
        os._exit(1)
    # the cyclic collector would scan millions of live plan objects again and again (a third of the
    # producer's time at scale 0.1, more at larger scales); the producer makes no cycles worth it
    gc.disable()
    try:
        produce(config, catalog, out.put)
        out.put(("done", "", None))
    except BaseException:
        out.put(("error", "", traceback.format_exc()))
        code = 1
    finally:
        out.close()
        out.join_thread()
        os._exit(code)


@contextmanager
def _produced(config: Config, catalog: Catalog) -> Iterator[Callable[[], tuple[str, str, Any]]]:
    # fork: the child needs no imports or pickled catalog, and _producer never returns into our code
    context = multiprocessing.get_context("fork")
    out = context.Queue(maxsize=1_000)  # <= ~500 MB: the producer runs on while indexes are built
    process = context.Process(
        target=_producer, args=(config, catalog, out, os.getpid()), name="bazaar-generate", daemon=True
    )
    process.start()

    def receive() -> tuple[str, str, Any]:
        while True:
            try:
                message: tuple[str, str, Any] = out.get(timeout=1)
            except queue.Empty:
                if not process.is_alive():
                    raise BazaarError(f"the generator process died (exit code {process.exitcode})") from None
                continue
            if message[0] == "error":
                lines = str(message[2]).strip().splitlines()
                raise BazaarError(f"the generator failed: {lines[-1]}", detail="\n".join(lines))
            return message

    try:
        yield receive
    finally:
        if process.is_alive():
            process.terminate()
        process.join(10)
        if process.is_alive():  # never leave it behind: multiprocessing would wait for it at exit
            process.kill()
            process.join()
        out.cancel_join_thread()


def partition_months(conn: psycopg.Connection[Any], config: Config) -> int:
    """Months back from now that the history reaches: partitions are created that far."""
    row = conn.execute(query("partition_months"), {"start": config.start}).fetchone()
    assert row is not None
    return int(row[0]) + 1


def load(
    dsn: str,
    *,
    scale: float,
    seed: int,
    as_of: int,
    months: int,
    password: str | None,
    truncate: bool,
    progress: bool,
    report: Callable[[str], None],
) -> Summary:
    """Generate the marketplace and load it into the database at DSN, then ANALYZE it."""
    started = time.perf_counter()
    summary = Summary(scale, seed, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(as_of)))
    # what the producer needs, read on a connection closed before it is forked: a child holding
    # the load connection's socket would keep its transaction (and every lock) open if this
    # process were killed
    with connect(dsn, autocommit=True) as conn:
        config = Config(scale, seed, as_of, months, password_hash(conn, seed, password))
        tables = marketplace_tables(conn)
        _refuse_filled(conn, tables, truncate)
        catalog = read_catalog(conn)
    with _produced(config, catalog) as receive, connect(dsn) as conn:
        # one load at a time: a second waits for nothing and says why
        if conn.execute(query("load_lock")).fetchone() != (True,):
            raise BazaarError("another bazaar generate is loading this database", exit_code=EXIT_WRONG_STATE)
        _refuse_filled(conn, tables, truncate)
        conn.execute(query("load_memory"))
        partitioned = _partitioned_tables(conn)
        months_back = partition_months(conn, config)
        for table in partitioned:
            conn.execute(query("create_partitions"), {"table": f"core.{table}", "months": months_back})
        # truncated in this transaction, a table may be copied FREEZE: no later vacuum rewrites it
        conn.execute(
            template("truncate", tables=sql.SQL(", ").join(sql.Identifier("core", t) for t in tables))
        )
        definitions = Definitions.read(conn, tables)
        definitions.drop(conn)
        conn.execute(template("card_triggers", action=sql.SQL("disable")))
        report(f"loading scale {scale} (seed {seed}, as of {summary.as_of}) into {len(tables)} tables")
        # the catalog's tables are there from the start: foreign keys to them come back with their table
        loaded = set(REFERENCE_TABLES)
        with conn.cursor() as cur:
            message = receive()
            while message[0] != "done":
                kind, table, (columns, binary) = message
                assert kind == "begin", message
                begun = time.perf_counter()
                if table == "listing_texts":
                    rows, message = _search_vectors(conn, cur, columns, receive, progress=progress)
                    summary.steps.append(Step("search vectors", rows, time.perf_counter() - begun))
                    continue
                staged = table == "listings"
                if staged:
                    # like the table: its generated part_number, its defaults (an empty search vector)
                    conn.execute(query("listings_staged"))
                target = ("pg_temp", "listings_staged") if staged else ("core", table)
                rows, message = _copy(
                    cur,
                    target,
                    columns,
                    receive,
                    freeze=table not in partitioned,
                    binary=binary,
                    progress=progress,
                )
                if staged:
                    _insert_listings(conn, columns)
                _set_identity(conn, table)
                summary.steps.append(
                    _built(conn, definitions, loaded, (table, rows, begun), progress, report)
                )
        # derived, not generated: the kept cards, from the tables now loaded (V0036)
        begun = time.perf_counter()
        rows = conn.execute(query("listing_cards_fill")).rowcount
        summary.steps.append(
            _built(conn, definitions, loaded, ("listing_cards", rows, begun), progress, report)
        )
        conn.execute(template("card_triggers", action=sql.SQL("enable")))
        missing = set(tables) - loaded
        if missing:
            raise BazaarError(
                f"the generator does not fill {', '.join(sorted(missing))}: teach generator/world/stages.py"
            )
        if definitions.missing():  # a bug here must roll back, not commit a schema without them
            raise BazaarError(f"foreign keys not rebuilt: {', '.join(definitions.missing())}")
        begun = time.perf_counter()
        conn.commit()
        summary.steps.append(Step("commit", 0, time.perf_counter() - begun))
    begun = time.perf_counter()
    analyze(dsn, tables)
    summary.steps.append(Step("analyze", 0, time.perf_counter() - begun))
    summary.seconds = time.perf_counter() - started
    return summary


def _built(
    conn: psycopg.Connection[Any],
    definitions: Definitions,
    loaded: set[str],
    filled: tuple[str, int, float],
    progress: bool,
    report: Callable[[str], None],
) -> Step:
    """FILLED = (table, rows, when its filling began): the table is in. Rebuild its keys and
    indexes and the foreign keys it completes; the step tells how long each part took."""
    table, rows, begun = filled
    copied = time.perf_counter()
    loaded.add(table)
    for name, seconds in definitions.rebuild(conn, loaded, table):
        if progress and seconds > 1:
            report(f"{table:>24}: {name} built in {seconds:.1f} s")
    return Step(table, rows, copied - begun, time.perf_counter() - copied)


def _refuse_filled(conn: psycopg.Connection[Any], tables: list[str], truncate: bool) -> None:
    filled = filled_tables(conn, tables)
    if filled and not truncate:
        raise BazaarError(
            f"the marketplace already holds data (in {', '.join(filled[:5])}"
            f"{' …' if len(filled) > 5 else ''})",
            exit_code=EXIT_WRONG_STATE,
            hint="--truncate replaces it (everything but the catalog and settings is deleted)",
        )


def _partitioned_tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(query("partitioned_tables")).fetchall()
    return [name for (name,) in rows]


def _copy(
    cur: psycopg.Cursor[Any],
    target: tuple[str, str],
    columns: tuple[str, ...],
    receive: Callable[[], tuple[str, str, Any]],
    *,
    freeze: bool,
    binary: bool = False,
    progress: bool,
) -> tuple[int, tuple[str, str, Any]]:
    """COPY one table's chunks as they arrive; returns its rows and the message after its end."""
    schema, table = target
    statement = template(
        "copy",
        schema=sql.Identifier(schema),
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        format=sql.Literal("binary" if binary else "text"),
        freeze=sql.Literal(freeze and schema == "core"),
    )
    with (
        tqdm(desc=f"{table:>24}", unit=" rows", unit_scale=True, disable=not progress, leave=False) as bar,
        cur.copy(statement) as copy,
    ):
        while (message := receive())[0] == "data":
            chunk, rows = message[2]
            copy.write(chunk)
            bar.update(rows)
    assert message[0] == "end", message
    return int(message[2]), receive()


def _search_vectors(
    conn: psycopg.Connection[Any],
    cur: psycopg.Cursor[Any],
    columns: tuple[str, ...],
    receive: Callable[[], tuple[str, str, Any]],
    *,
    progress: bool,
) -> tuple[int, tuple[str, str, Any]]:
    """The listings' texts, copied as soon as they are written, turned into search vectors with
    V0010's core.listing_search_vector (the trigger's own definition) set-based, by a parallel
    query, while the producer simulates the rest; core.listings takes them from
    ops.generator_listing_vectors. Both tables are unlogged (parallel workers cannot read
    temporary tables) and dropped before the commit."""
    conn.execute(query("search_texts"))
    rows, message = _copy(
        cur, ("ops", "generator_listing_texts"), columns, receive, freeze=False, progress=progress
    )
    conn.execute(query("search_vectors"))  # analyze, compute, drop the texts: one round trip
    return rows, message


def _insert_listings(conn: psycopg.Connection[Any], columns: tuple[str, ...]) -> None:
    """Staged listings into core.listings with their search vectors, the per-row trigger off for
    this one statement (it would compute them again, 135 us a row)."""
    conn.execute(
        template(
            "listings_insert",
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            staged=sql.SQL(", ").join(sql.Identifier("s", c) for c in columns),
        )
    )


def _set_identity(conn: psycopg.Connection[Any], table: str) -> None:
    """The table's identity continues after the ids the generator gave."""
    row = conn.execute(query("identity_sequence"), {"qualified": f"core.{table}", "table": table}).fetchone()
    if row is not None:
        conn.execute(template("identity_continue", table=sql.Identifier(table)), {"sequence": row[0]})


def analyze(dsn: str, tables: list[str]) -> None:
    """ANALYZE every table, two at a time (the largest first, so both connections finish together)."""
    with connect(dsn, autocommit=True) as conn:
        sizes = dict(conn.execute(query("table_sizes"), {"tables": tables}).fetchall())
    ordered = sorted(tables, key=lambda t: -int(sizes.get(t, 0)))

    def work(share: list[str]) -> None:
        with connect(dsn, autocommit=True) as conn:
            for table in share:
                conn.execute(template("analyze_table", table=sql.Identifier(table)))

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(work, [ordered[0::2], ordered[1::2]]))
