"""The migration runner against real databases: each test migrates a scratch database of the
session's server from a small SQL tree that starts with the repository's real V0001."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bazaar import migrate
from bazaar.errors import EXIT_WRONG_STATE
from tests.harness import SQL_DIR, ServerUnderTest

Conn = psycopg.Connection[Any]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A SQL tree holding the repository's first migration."""
    root = tmp_path / "sql"
    (root / "migrations").mkdir(parents=True)
    shutil.copy(SQL_DIR / "migrations" / "V0001__foundation.sql", root / "migrations")
    return root


@pytest.fixture
def scratch(server: ServerUnderTest) -> Iterator[str]:
    with server.scratch_database() as dsn:
        yield dsn


@pytest.fixture
def conn(scratch: str) -> Iterator[Conn]:
    with psycopg.connect(scratch, autocommit=True) as c:
        yield c


def write(tree: Path, name: str, text: str) -> Path:
    path = tree / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def applied(conn: Conn) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute("select kind, script from ops.schema_migrations order by script")]


def test_applies_in_version_order_and_rerun_is_a_no_op(conn: Conn, tree: Path) -> None:
    # V0010 sorts before V0002 as text; the runner must order by number.
    write(tree, "migrations/V0010__second.sql", "alter table core.things add column size integer;")
    write(tree, "migrations/V0002__first.sql", "create table core.things (id bigint primary key);")
    assert migrate.migrate(conn, tree) == ["V0001__foundation.sql", "V0002__first.sql", "V0010__second.sql"]
    assert migrate.migrate(conn, tree) == []
    columns = conn.execute(
        "select array_agg(attname order by attnum) from pg_attribute "
        "where attrelid = 'core.things'::regclass and attnum > 0"
    ).fetchone()
    assert columns == (["id", "size"],)
    owner = conn.execute("select pg_get_userbyid(relowner) from pg_class where oid = 'core.things'::regclass")
    assert owner.fetchone() == ("bazaar_owner",)
    assert [row.state for row in migrate.status(conn, tree)] == ["applied"] * 3


def test_a_second_database_on_the_same_server_migrates_too(conn: Conn, tree: Path, bazaar_dsn: str) -> None:
    # The session database already created the cluster-wide roles; this one must not trip on them.
    assert migrate.migrate(conn, tree) == ["V0001__foundation.sql"]
    schemas = conn.execute(
        "select count(*) from pg_namespace where nspname in ('core','api','analytics','ops')"
    )
    assert schemas.fetchone() == (4,)


def test_edited_applied_migration_stops_migrate_and_fails_verify(conn: Conn, tree: Path) -> None:
    path = write(tree, "migrations/V0002__things.sql", "create table core.things (id bigint primary key);")
    migrate.migrate(conn, tree)
    path.write_text("create table core.things (id bigint primary key, extra text);")
    write(tree, "migrations/V0003__more.sql", "create table core.more (id bigint primary key);")
    with pytest.raises(migrate.MigrationError) as info:
        migrate.migrate(conn, tree)
    assert info.value.exit_code == EXIT_WRONG_STATE
    assert "V0002__things.sql" in info.value.message
    assert conn.execute("select to_regclass('core.more')").fetchone() == (None,), "nothing may run after"
    findings = migrate.verify(conn, tree)
    assert migrate.Finding("migration", "V0002__things.sql", "changed") in findings
    assert migrate.Finding("migration", "V0003__more.sql", "pending") in findings


def test_deleted_applied_migration_is_refused(conn: Conn, tree: Path) -> None:
    path = write(tree, "migrations/V0002__things.sql", "create table core.things (id bigint primary key);")
    migrate.migrate(conn, tree)
    path.unlink()
    with pytest.raises(migrate.MigrationError, match=r"V0002__things\.sql"):
        migrate.migrate(conn, tree)
    assert "missing file" in {r.state for r in migrate.status(conn, tree)}


def test_a_migration_older_than_the_newest_applied_is_refused(conn: Conn, tree: Path) -> None:
    write(tree, "migrations/V0003__later.sql", "create table core.later (id bigint primary key);")
    migrate.migrate(conn, tree)
    write(tree, "migrations/V0002__forgotten.sql", "create table core.forgotten (id bigint primary key);")
    with pytest.raises(migrate.MigrationError, match=r"V0002__forgotten\.sql"):
        migrate.migrate(conn, tree)


@pytest.mark.parametrize(
    ("body", "line"),
    [
        # a syntax error: the server gives a position inside the statement
        ("create table core.t2 (id int);\ninsert into core.t2 values (1);\n\nselect 1,\n  2 frm core.t2;", 5),
        # an error the server reports without a position: the statement's first line
        ("create table core.t2 (id int);\n-- again:\ncreate table core.t2 (id int);", 3),
        # a failure inside PL/pgSQL
        ("create table core.t2 (id int);\n\ndo $$\nbegin\n  perform 1 / 0;\nend\n$$;", 3),
    ],
)
def test_broken_migration_rolls_back_and_names_file_and_line(
    conn: Conn, tree: Path, body: str, line: int
) -> None:
    migrate.migrate(conn, tree)
    write(tree, "migrations/V0002__broken.sql", body)
    with pytest.raises(migrate.MigrationError) as info:
        migrate.migrate(conn, tree)
    assert (info.value.script, info.value.line) == ("V0002__broken.sql", line)
    assert info.value.sqlstate is not None
    assert conn.execute("select to_regclass('core.t2')").fetchone() == (None,)
    assert ("versioned", "V0002__broken.sql") not in applied(conn)


def test_script_may_not_commit(conn: Conn, tree: Path) -> None:
    write(tree, "migrations/V0002__commits.sql", "create table core.t3 (id int);\ncommit;")
    with pytest.raises(migrate.MigrationError) as info:
        migrate.migrate(conn, tree)
    assert info.value.line == 2


def test_bad_file_names_and_duplicate_versions_are_refused(tree: Path) -> None:
    write(tree, "migrations/v0002-lower.sql", "select 1;")
    with pytest.raises(migrate.MigrationError, match="not a migration file name"):
        migrate.discover(tree)
    (tree / "migrations" / "v0002-lower.sql").unlink()
    write(tree, "migrations/V0002__a.sql", "select 1;")
    write(tree, "migrations/V00002__b.sql", "select 1;")
    with pytest.raises(migrate.MigrationError, match="same version"):
        migrate.discover(tree)


def test_concurrent_migrators_serialize(server: ServerUnderTest, scratch: str, tree: Path) -> None:
    write(
        tree,
        "migrations/V0002__counted.sql",
        "create table core.runs (id bigint generated always as identity);\n"
        "insert into core.runs default values;",
    )
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(scratch, autocommit=True) as c:
                results.append(migrate.migrate(c, tree))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    with psycopg.connect(scratch, autocommit=True) as holder:
        # Hold the runner's lock so both migrators are provably waiting at the same time.
        holder.execute("select pg_advisory_lock(%s)", [migrate.LOCK_KEY])
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        waiting = 0
        while waiting < 2 and time.monotonic() < deadline:
            row = holder.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and not granted "
                "and database = (select oid from pg_database where datname = current_database())"
            ).fetchone()
            waiting = row[0] if row else 0
        assert waiting == 2, "both migrators should be waiting for the lock"
        holder.execute("select pg_advisory_unlock(%s)", [migrate.LOCK_KEY])
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    assert sorted(results, key=len) == [[], ["V0001__foundation.sql", "V0002__counted.sql"]]
    with psycopg.connect(scratch) as c:
        assert c.execute("select count(*) from core.runs").fetchone() == (1,)
        assert c.execute("select count(*) from ops.schema_migrations").fetchone() == (2,)


FUNCTION = """create or replace function api.answer() returns integer
language sql immutable security definer set search_path = pg_catalog
as $$ select {value} $$;
comment on function api.answer() is 'The answer.';
"""
VIEW = "create or replace view analytics.answers as select api.answer() as answer;\n"


# -- under load: lock_timeout, retries, no-transaction scripts (docs/conventions.md) -----------

THINGS = "create table core.things (id bigint primary key, owner_id bigint);"
QUICK = migrate.Locks(timeout_ms=100, attempts=4, pause_s=0.01)


def holding_a_read_lock(scratch: str) -> Conn:
    """A connection in the middle of a transaction that read core.things (a long report)."""
    holder = psycopg.connect(scratch)
    holder.execute("select count(*) from core.things")
    return holder


class Retries:
    """migrate's progress callback: records the messages, and ends the transaction of HOLDER (the
    report in the way) when the migration has given way AFTER times."""

    def __init__(self, holder: Conn, after: int) -> None:
        self.holder, self.after, self.messages = holder, after, list[str]()

    def __call__(self, message: str) -> None:
        self.messages.append(message)
        if "a lock is taken" in message and len(self.retries()) == self.after:
            self.holder.commit()

    def retries(self) -> list[str]:
        return [m for m in self.messages if "a lock is taken" in m]


def test_a_migration_waits_for_a_lock_briefly_and_is_tried_again(
    conn: Conn, tree: Path, scratch: str
) -> None:
    write(tree, "migrations/V0002__things.sql", THINGS)
    migrate.migrate(conn, tree)
    write(
        tree,
        "migrations/V0003__size.sql",
        "alter table core.things add column size integer not null default 0;",
    )
    with holding_a_read_lock(scratch) as holder:
        progress = Retries(holder, after=2)  # the second retry ends the report
        started = time.monotonic()
        assert migrate.migrate(conn, tree, progress, locks=QUICK) == ["V0003__size.sql"]
    retries = progress.retries()
    assert len(retries) == 2 and "V0003__size.sql" in retries[0] and "(1/4)" in retries[0], progress.messages
    assert time.monotonic() - started < 5
    assert conn.execute("select size from core.things").fetchall() == []  # the column is there
    assert applied(conn)[-1] == ("versioned", "V0003__size.sql")


def test_a_changed_view_waits_for_a_report_reading_it_and_is_tried_again(
    conn: Conn, tree: Path, scratch: str
) -> None:
    write(tree, "migrations/V0002__things.sql", THINGS)
    write(tree, "views/analytics/things.sql", "create view analytics.things as select id from core.things;")
    migrate.migrate(conn, tree)
    write(
        tree,
        "views/analytics/things.sql",
        "create view analytics.things as select id, owner_id from core.things;",
    )
    with psycopg.connect(scratch) as report:
        report.execute("select count(*) from analytics.things")  # holds the view until it commits
        progress = Retries(report, after=1)
        # dropping the surface (not a script's statement) is what waits here
        assert migrate.migrate(conn, tree, progress, locks=QUICK) == ["views/analytics/things.sql"]
    assert "the functions and views: a lock is taken" in progress.retries()[0], progress.messages
    assert conn.execute("select owner_id from analytics.things").fetchall() == []


def test_a_migration_gives_up_after_its_attempts_and_changes_nothing(
    conn: Conn, tree: Path, scratch: str
) -> None:
    write(tree, "migrations/V0002__things.sql", THINGS)
    migrate.migrate(conn, tree)
    write(tree, "migrations/V0003__size.sql", "alter table core.things add column size integer;")
    with holding_a_read_lock(scratch), pytest.raises(migrate.MigrationError) as info:
        migrate.migrate(conn, tree, locks=QUICK)
    error = info.value
    assert error.sqlstate == "55P03" and error.exit_code == EXIT_WRONG_STATE
    assert "V0003__size.sql line 1" in str(error) and "gave up after 4 attempts" in (error.hint or "")
    assert ("versioned", "V0003__size.sql") not in applied(conn)
    columns = conn.execute("select column_name from information_schema.columns where table_name = 'things'")
    assert [r[0] for r in columns] == ["id", "owner_id"]


def test_a_no_transaction_migration_builds_an_index_concurrently_and_validates_a_constraint(
    conn: Conn, tree: Path, scratch: str
) -> None:
    write(tree, "migrations/V0002__things.sql", THINGS + "\ninsert into core.things values (1, 1);")
    write(
        tree,
        "migrations/V0003__owners.sql",
        "create table core.owners (id bigint primary key);\ninsert into core.owners values (1);\n"
        "alter table core.things add constraint fk_things_owner_id_owners\n"
        "    foreign key (owner_id) references core.owners (id) not valid;",
    )
    migrate.migrate(conn, tree)
    concurrently = (
        "-- bazaar:no-transaction\n"
        "create index concurrently if not exists index_things_on_owner_id on core.things (owner_id);\n"
        "alter table core.things validate constraint fk_things_owner_id_owners;\n"
    )
    write(tree, "migrations/V0004__owner_index.sql", concurrently)
    # a client's write still open: the concurrent build waits for it (no lock_timeout), not fails
    with psycopg.connect(scratch) as writer:
        writer.execute("insert into core.things values (2, 1)")
        release = threading.Timer(0.5, writer.commit)
        release.start()
        started = time.monotonic()
        assert migrate.migrate(conn, tree, locks=QUICK)[-1] == "V0004__owner_index.sql"
        release.join()
    assert time.monotonic() - started >= 0.5
    index = conn.execute(
        "select i.indisvalid, c.relowner::regrole::text from pg_index as i "
        "join pg_class as c on c.oid = i.indexrelid where c.relname = 'index_things_on_owner_id'"
    ).fetchone()
    assert index == (True, "bazaar_owner")
    valid = conn.execute("select convalidated from pg_constraint where conname = 'fk_things_owner_id_owners'")
    assert valid.fetchone() == (True,)
    # the same statement inside the usual transaction is refused by PostgreSQL itself
    write(
        tree, "migrations/V0005__in_a_transaction.sql", concurrently.replace("-- bazaar:no-transaction\n", "")
    )
    with pytest.raises(migrate.MigrationError, match="cannot run inside a transaction block"):
        migrate.migrate(conn, tree)


def test_a_failed_no_transaction_migration_says_what_took_effect_and_runs_again(
    conn: Conn, tree: Path
) -> None:
    write(tree, "migrations/V0002__things.sql", THINGS)
    script = write(
        tree,
        "migrations/V0003__indexes.sql",
        "-- bazaar:no-transaction\n"
        "create index concurrently if not exists index_things_on_owner_id on core.things (owner_id);\n"
        "create index concurrently if not exists index_things_on_size on core.things (size);\n",
    )
    with pytest.raises(migrate.MigrationError) as info:
        migrate.migrate(conn, tree)
    assert "V0003__indexes.sql line 3" in str(info.value)
    assert "before line 3 took effect" in (info.value.hint or "")
    assert ("versioned", "V0003__indexes.sql") not in applied(conn)
    # not recorded, so it may still be fixed; what took effect is skipped by `if not exists`
    script.write_text(script.read_text().replace("(size)", "(id, owner_id)"))
    assert migrate.migrate(conn, tree)[-1] == "V0003__indexes.sql"
    names = conn.execute("select indexname from pg_indexes where tablename = 'things' order by 1").fetchall()
    assert [r[0] for r in names] == ["index_things_on_owner_id", "index_things_on_size", "things_pkey"]


def test_only_a_versioned_migration_may_run_without_a_transaction(tree: Path) -> None:
    write(tree, "functions/core/f.sql", "-- bazaar:no-transaction\nselect 1;")
    with pytest.raises(migrate.MigrationError, match="only a versioned migration"):
        migrate.discover(tree)


def test_changed_function_file_is_reapplied(conn: Conn, tree: Path) -> None:
    path = write(tree, "functions/api/answer.sql", FUNCTION.format(value=1))
    write(tree, "views/analytics/answers.sql", VIEW)
    assert migrate.migrate(conn, tree)[-2:] == ["functions/api/answer.sql", "views/analytics/answers.sql"]
    assert conn.execute("select answer from analytics.answers").fetchone() == (1,)
    assert migrate.migrate(conn, tree) == []

    path.write_text(FUNCTION.format(value=2))
    states = {r.script: r.state for r in migrate.status(conn, tree)}
    assert states["functions/api/answer.sql"] == "changed"
    assert states["views/analytics/answers.sql"] == "applied"
    assert migrate.migrate(conn, tree) == ["functions/api/answer.sql"]
    assert conn.execute("select api.answer()").fetchone() == (2,)
    assert migrate.verify(conn, tree) == []


def test_helpers_in_functions_core_are_applied_first(conn: Conn, tree: Path) -> None:
    # api/ sorts before core/, yet a language sql function in api may call a core helper
    write(tree, "functions/api/twice.sql", "create function api.twice(x integer) returns integer "
          "language sql immutable return core.double(x);")  # fmt: skip
    write(tree, "functions/core/double.sql", "create function core.double(x integer) returns integer "
          "language sql immutable return x * 2;")  # fmt: skip
    write(tree, "views/analytics/doubled.sql", "create view analytics.doubled as select api.twice(21) as n;")
    assert migrate.migrate(conn, tree)[1:] == [
        "functions/core/double.sql",
        "functions/api/twice.sql",
        "views/analytics/doubled.sql",
    ]
    assert conn.execute("select n from analytics.doubled").fetchone() == (42,)


def test_failing_repeatable_leaves_previous_definitions(conn: Conn, tree: Path) -> None:
    path = write(tree, "functions/api/answer.sql", FUNCTION.format(value=1))
    migrate.migrate(conn, tree)
    path.write_text(FUNCTION.format(value="1 +"))
    with pytest.raises(migrate.MigrationError) as info:
        migrate.migrate(conn, tree)
    assert (info.value.script, info.value.line) == ("functions/api/answer.sql", 3)  # the body's line
    assert conn.execute("select api.answer()").fetchone() == (1,)


def test_the_files_own_the_surface_renamed_removed_and_resigned_functions_leave_nothing(
    conn: Conn, tree: Path
) -> None:
    first = write(tree, "functions/api/greet.sql", FUNCTION.replace("answer", "greet").format(value=1))
    write(tree, "functions/core/double.sql", "create function core.double(x integer) returns integer "
          "language sql immutable return x * 2;")  # fmt: skip
    migrate.migrate(conn, tree)
    # renamed, and a helper given another argument list: no drop line in any file
    first.unlink()
    write(tree, "functions/api/hello.sql", FUNCTION.replace("answer", "hello").format(value=2))
    write(tree, "functions/core/double.sql", "create function core.double(x bigint) returns bigint "
          "language sql immutable return x * 2;")  # fmt: skip
    migrate.migrate(conn, tree)
    functions = [
        r[0] for r in conn.execute(
            "select p.oid::regprocedure::text from pg_proc as p "
            "join pg_namespace as n on n.oid = p.pronamespace where n.nspname in ('api', 'core') order by 1"
        )
    ]  # fmt: skip
    assert functions == ["api.hello()", "core.double(bigint)"]
    assert migrate.verify(conn, tree) == []
    assert ("repeatable", "functions/api/greet.sql") not in applied(conn)


def test_routines_a_trigger_uses_stay_and_are_replaced_in_place(conn: Conn, tree: Path) -> None:
    write(tree, "migrations/V0002__things.sql", "create table core.things (id bigint primary key, note text);"
          "\ncreate function core.stamp() returns trigger language plpgsql as $$ begin new.note := 'v1'; "
          "return new; end $$;\ncreate trigger things_stamp before insert on core.things "
          "for each row execute function core.stamp();")  # fmt: skip
    stamp = "create or replace function core.stamp() returns trigger language plpgsql as $$ begin " \
        "new.note := '{v}'; return new; end $$;"  # fmt: skip
    path = write(tree, "functions/core/stamp.sql", stamp.format(v="v2"))
    migrate.migrate(conn, tree)
    path.write_text(stamp.format(v="v3"))
    write(tree, "functions/api/other.sql", FUNCTION.format(value=1))
    migrate.migrate(conn, tree)
    conn.execute("insert into core.things (id) values (1)")
    assert conn.execute("select note from core.things").fetchone() == ("v3",)  # the trigger survived
    assert migrate.verify(conn, tree) == []


def test_verify_finds_objects_changed_added_or_dropped_by_hand(conn: Conn, tree: Path) -> None:
    write(tree, "functions/api/answer.sql", FUNCTION.format(value=1))
    write(tree, "views/analytics/answers.sql", VIEW)
    migrate.migrate(conn, tree)
    assert migrate.verify(conn, tree) == []

    conn.execute(
        "create or replace function api.answer() returns integer language sql immutable "
        "security definer set search_path = pg_catalog as $$ select 3 $$"
    )
    conn.execute("create function api.backdoor() returns integer language sql as $$ select 0 $$")
    conn.execute("drop view analytics.answers")
    findings = {(f.what, f.name): f.problem for f in migrate.verify(conn, tree)}
    assert findings == {
        ("function", "api.answer()"): "differs from the repository",
        ("function", "api.backdoor()"): "in the database but in no repository file",
        ("view", "analytics.answers"): "in the repository but missing from the database",
    }
    # verify changes nothing
    assert conn.execute("select api.answer()").fetchone() == (3,)
    assert conn.execute("select to_regclass('analytics.answers')").fetchone() == (None,)
    # (made by hand as the admin, the backdoor is also reported for its owner)
    assert ("api.backdoor()", "owned by postgres, not bazaar_owner") in {
        (f.name, f.problem) for f in migrate.verify(conn, tree)
    }
    # --reapply repairs what was edited or dropped, and removes what no file holds
    assert migrate.migrate(conn, tree) == []
    assert migrate.migrate(conn, tree, reapply=True) == [
        "functions/api/answer.sql",
        "views/analytics/answers.sql",
    ]
    assert migrate.verify(conn, tree) == []
    assert conn.execute("select to_regprocedure('api.backdoor()')").fetchone() == (None,)


def test_verify_finds_grants_that_break_the_security_model(conn: Conn, tree: Path) -> None:
    write(tree, "migrations/V0002__things.sql", "create table core.things (id bigint primary key);")
    write(
        tree,
        "functions/core/helper.sql",
        "create function core.helper() returns integer language sql as $$ select 1 $$;",
    )
    migrate.migrate(conn, tree)
    assert migrate.verify(conn, tree) == []
    conn.execute("grant usage on schema core to bazaar_app")
    conn.execute("grant select on core.things to bazaar_app")
    conn.execute("grant execute on function core.helper() to bazaar_worker")
    findings = {(f.what, f.name) for f in migrate.verify(conn, tree)}
    assert findings == {("schema", "core"), ("table", "core.things"), ("function", "core.helper()")}


def test_verify_names_an_object_with_another_owner(conn: Conn, tree: Path) -> None:
    write(tree, "migrations/V0002__events.sql", "create table core.events (at timestamptz not null) "
          "partition by range (at);\ncreate table core.events_2099_01 partition of core.events "
          "for values from ('2099-01-01') to ('2099-02-01');")  # fmt: skip
    migrate.migrate(conn, tree)
    assert migrate.verify(conn, tree) == []
    # a partition made by hand, as the admin (as the generator and pg_cron used to)
    conn.execute("create table core.events_2099_02 partition of core.events "
                 "for values from ('2099-02-01') to ('2099-03-01')")  # fmt: skip
    assert [(f.what, f.name, f.problem) for f in migrate.verify(conn, tree)] == [
        ("table", "core.events_2099_02", "owned by postgres, not bazaar_owner")
    ]


def test_the_repository_migrates_into_a_database_that_verifies_clean(bazaar_dsn: str) -> None:
    with psycopg.connect(bazaar_dsn, autocommit=True) as c:
        assert migrate.verify(c, SQL_DIR) == []
        assert migrate.migrate(c, SQL_DIR) == []


def test_v0007_moves_existing_orders_into_one_line_each(conn: Conn, tree: Path) -> None:
    """The data migration of V0007 on orders written before it (migrations only, no functions)."""
    migrations = sorted((SQL_DIR / "migrations").glob("V*.sql"))
    for script in migrations:
        if script.name < "V0007":
            shutil.copy(script, tree / "migrations")
    migrate.migrate(conn, tree)
    conn.execute(
        "insert into core.users (display_name, email, password_hash) "
        "select 'P' || g, 'p' || g || '@example.com', '$2a$04$' || repeat('a', 53) "
        "from generate_series(1, 2) as g"
    )
    conn.execute(
        """
        insert into core.listings (kind, category_id, seller_id, title, region, city, price_amount,
                                   quantity, reserved_quantity, attributes, status)
        select 'part', c.id, 1, 'Pads', 'Москва', 'Москва', 1000, 5, 3, '{}', 'published'
        from core.categories as c where c.slug = 'brake-pads'
        """
    )
    conn.execute(
        """
        insert into core.orders (listing_id, buyer_id, seller_id, quantity, unit_price_amount, total_amount,
                                 currency, wholesale, reserved_until, idempotency_key)
        values (1, 2, 1, 3, 900, 2700, 'RUB', true, now() + interval '10 minutes', 'k-1')
        """
    )
    shutil.copy(SQL_DIR / "migrations" / "V0007__order_lines_and_cart.sql", tree / "migrations")
    migrate.migrate(conn, tree)
    lines = conn.execute(
        "select order_id, listing_id, quantity, unit_price_amount, wholesale, line_amount "
        "from core.order_lines"
    ).fetchall()
    assert lines == [(1, 1, 3, 900, True, 2700)]
    header = conn.execute(
        "select buyer_id, seller_id, total_amount, idempotency_key from core.orders"
    ).fetchall()
    assert header == [(2, 1, 2700, "k-1")]


def test_the_hostile_input_migrations_repair_what_the_old_api_stored(conn: Conn, tree: Path) -> None:
    """V0012-V0016 add bounds; a database holds what the api let through before them (an edit
    skipped create's limits, a price of 2^62, settings out of any range, a saved search of
    minuses): the migrations bring it within the bounds instead of stopping."""
    migrations = sorted((SQL_DIR / "migrations").glob("V*.sql"))
    for path in migrations:
        if path.name < "V0012":
            shutil.copy(path, tree / "migrations")
    migrate.migrate(conn, tree)
    conn.execute(
        "update core.settings set value = case key when 'cart_max_lines' then '500'::jsonb "
        "when 'session_lifetime' then '\"-1 day\"'::jsonb when 'chat_flood_limit' then '1.5'::jsonb end "
        "where key in ('cart_max_lines', 'session_lifetime', 'chat_flood_limit')"
    )
    user = conn.execute(
        "insert into core.users (display_name, phone, password_hash) "
        "values ('Old', '+79990001122', '$2a$04$' || repeat('a', 53)) returning id"
    ).fetchone()
    assert user is not None
    part, car = (
        conn.execute(
            "insert into core.listings (kind, category_id, model_id, seller_id, title, region, city, "
            "price_amount, brand, contact_name, quantity, attributes) select %s::core.listing_kind, c.id, "
            "(select id from core.vehicle_models limit 1), %s, 'Title', 'Москва', 'Москва', %s, %s, %s, %s, "
            "%s from core.categories as c where c.slug = %s returning id",
            [kind, user[0], 2**62, "b" * 100, "c" * 1000, 2_000_000, attributes, slug],
        ).fetchone()[0]  # type: ignore[index]
        for kind, slug, attributes in (
            ("part", "brake-pads", '{"part_number": "1", "condition": "new"}'),
            ("car", "passenger-cars", '{"year": 2015.0, "mileage_km": 1, "body": "sedan", '
             '"engine": "e", "transmission": "automatic"}'),
        )
    )  # fmt: skip
    conn.execute("insert into core.audit_log (action, reason) values ('set_user_role', repeat('r', 600))")
    conn.execute(
        "insert into core.saved_searches (user_id, name, query, filters) values "
        "(%(u)s, 'minuses', repeat('-', 40) || ' колодки', '{\"year\": \"2015\", \"kind\": \"car\"}'), "
        "(%(u)s, 'long', repeat('z', 800), '{}'), (%(u)s, 'gone', null, '{\"model_id\": 999999}')",
        {"u": user[0]},
    )
    conn.execute(
        "insert into core.sign_in_codes (user_id, code_hash, expires_at, max_attempts) "
        "values (%s, '$2a$04$' || repeat('b', 53), now(), 5)",
        [user[0]],
    )
    for path in migrations:
        if path.name >= "V0012":
            shutil.copy(path, tree / "migrations")
    migrate.migrate(conn, tree)
    settings = dict(
        conn.execute(
            "select key, value from core.settings "
            "where key in ('cart_max_lines', 'session_lifetime', 'chat_flood_limit')"
        ).fetchall()
    )
    assert settings == {"cart_max_lines": 200, "session_lifetime": "01:00:00", "chat_flood_limit": 2}
    row = conn.execute(
        "select price_amount, char_length(brand), char_length(contact_name), quantity from core.listings "
        "where id = %s", [part]
    ).fetchone()  # fmt: skip
    assert row == (10**11, 60, 80, 1_000_000)
    assert conn.execute(
        "select price_amount from core.listing_price_history where listing_id = %s", [part]
    ).fetchone() == (10**11,)  # fmt: skip
    assert conn.execute("select attributes -> 'year' from core.listings where id = %s", [car]).fetchone() == (
        2015,
    )
    # the append-only audit log keeps its history; its new bound holds for new rows
    assert conn.execute("select char_length(reason) from core.audit_log").fetchone() == (600,)
    searches = conn.execute(
        "select name, query, kind, year from core.saved_searches order by name"
    ).fetchall()
    assert searches == [("long", "z" * 200, None, None), ("minuses", "-колодки", "car", 2015)]
    assert conn.execute("select phone from core.sign_in_codes").fetchone() == ("+79990001122",)
