"""`bazaar generate`: a small marketplace loaded into a database of its own, checked the way the
api functions would check it, reproducible byte for byte, and never loaded over existing data."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psutil
import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from bazaar import migrate
from bazaar.cli import cli
from generator.load import marketplace_tables
from tests.harness import SQL_DIR, ServerUnderTest

AS_OF = "2026-11-01T09:30:00Z"
PASSWORD = "demo-password-1"


def generate(dsn: str, *args: str, password: str | None = None) -> Result:
    env = {"BAZAAR_ADMIN_DSN": dsn, "BAZAAR_GENERATE_PASSWORD": password or ""}
    if password is None:
        env.pop("BAZAAR_GENERATE_PASSWORD")
    return CliRunner().invoke(cli, ["generate", *args], env=env)


# keys, indexes and triggers of every core table (partitions aside: a load adds months)
SCHEMA_SHAPE = """
with tables as (
    select c.oid from pg_class as c
    where c.relnamespace = 'core'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
)
select array_agg(d order by d) from (
    select format('%s %s', indexrelid::regclass, pg_get_indexdef(indexrelid)) as d from pg_index
    where indrelid in (select oid from tables)
    union all
    select format('%s %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated)
    from pg_constraint where conrelid in (select oid from tables)
    union all
    select format('%s %s %s', tgrelid::regclass, tgname, tgenabled) from pg_trigger
    where not tgisinternal and tgrelid in (select oid from tables)
) as shape (d)
"""
SHAPES: dict[str, Any] = {}


@contextmanager
def migrated(server: ServerUnderTest) -> Iterator[tuple[str, psycopg.Connection[Any]]]:
    """A new database with the repository migrated into it: its DSN and an admin connection."""
    with server.scratch_database() as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        migrate.migrate(conn, SQL_DIR)
        yield dsn, conn


def digests(dsn: str) -> dict[str, str]:
    """An md5 of every marketplace table's rows (as text, sorted)."""
    with psycopg.connect(dsn) as conn:
        return {
            table: str(
                conn.execute(
                    sql.SQL(
                        "select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) "
                        "from core.{} as t"
                    ).format(sql.Identifier(table))
                ).fetchone()[0]  # type: ignore[index]
            )
            for table in marketplace_tables(conn)
        }


@pytest.fixture(scope="module")
def loaded(server: ServerUnderTest) -> Iterator[str]:
    """A migrated database with scale 0.01, seed 7, loaded once for the module."""
    with migrated(server) as (dsn, conn):
        SHAPES["migrated"] = conn.execute(SCHEMA_SHAPE).fetchone()
        result = generate(dsn, "--scale", "0.01", "--seed", "7", "--as-of", AS_OF, password=PASSWORD)
        assert result.exit_code == 0, result.output
        yield dsn


def count(dsn: str, query: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return row[0]


def test_every_marketplace_table_is_filled(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        tables = marketplace_tables(conn)
        empty = [
            t
            for t in tables
            if conn.execute(
                sql.SQL("select not exists (select from core.{})").format(sql.Identifier(t))
            ).fetchone()
            == (True,)
        ]
    assert len(tables) >= 30
    # a work queue is empty at the snapshot's instant: every publication was matched long ago
    assert empty == ["saved_search_queue"]


def test_a_migration_alters_every_partitioned_table_after_a_load_and_the_partition_job(loaded: str) -> None:
    """The generator and pg_cron's partition job run as the admin; the partitions they make still
    belong to bazaar_owner, so the next migration (which runs as bazaar_owner) can alter them."""
    with psycopg.connect(loaded) as conn:
        tables = [r[0] for r in conn.execute(
            "select c.oid::regclass::text from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace where n.nspname = 'core' and c.relkind = 'p' "
            "order by 1"
        )]  # fmt: skip
        assert len(tables) == 4
        for table in tables:  # as pg_cron does, as the admin: months further ahead than the load made
            conn.execute("select ops.create_monthly_partitions(%s::regclass, 0, 8)", [table])
        conn.execute("set local role bazaar_owner")
        for table in tables:
            conn.execute(sql.SQL("alter table {} add column probe integer").format(sql.SQL(table)))
        conn.rollback()


def test_keys_indexes_and_triggers_are_rebuilt_exactly_as_migrated(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        after = conn.execute(SCHEMA_SHAPE).fetchone()
    assert after is not None and len(after[0]) > 150
    assert after == SHAPES["migrated"]
    verify = CliRunner().invoke(cli, ["db", "verify"], env={"BAZAAR_ADMIN_DSN": loaded})
    assert verify.exit_code == 0, verify.output


def test_sizes_follow_the_scale(loaded: str) -> None:
    assert count(loaded, "select count(*) from core.users") == 1_000
    assert count(loaded, "select count(*) from core.shops") == 50
    assert count(loaded, "select count(*) from core.listings") == 10_000
    # spread stochastically over listings: within a few percent of the target
    assert 95_000 <= count(loaded, "select count(*) from core.contact_clicks") <= 105_000
    assert 19_000 <= count(loaded, "select count(*) from core.chat_messages") <= 21_000
    assert 2_400 <= count(loaded, "select count(*) from core.orders") <= 3_600


def test_the_data_passes_every_integrity_check(loaded: str) -> None:
    result = CliRunner().invoke(cli, ["--json", "generate", "--check"], env={"BAZAAR_ADMIN_DSN": loaded})
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    assert len(findings) >= 14
    assert [f["check"] for f in findings if f["violations"]] == []


def test_every_listing_is_accepted_by_the_attribute_validation_of_the_api(loaded: str) -> None:
    # core.check_attributes raises on anything api.create_listing would refuse; normalising must
    # change nothing (numbers are numbers, text is trimmed)
    with psycopg.connect(loaded) as conn:
        changed = conn.execute(
            "select count(*) filter "
            "(where core.check_attributes(kind, category_id, attributes) <> attributes), "
            "count(*) from core.listings"
        ).fetchone()
    assert changed == (0, 10_000)


def test_every_state_and_kind_occurs(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        statuses = {s for (s,) in conn.execute("select distinct status::text from core.listings")}
        orders = {s for (s,) in conn.execute("select distinct status::text from core.orders")}
        kinds = {k for (k,) in conn.execute("select distinct kind::text from core.listings")}
        declared = conn.execute(
            "select count(*) filter (where confirmed_at is null), count(*) "
            "from core.deals where order_id is null"
        ).fetchone()
    assert statuses >= {
        "draft",
        "pending",
        "published",
        "reserved",
        "sold",
        "rejected",
        "archived",
        "expired",
    }
    assert orders == {"reserved", "paid", "cancelled", "expired"}
    assert kinds == {"car", "part", "service"}
    assert declared is not None and 0 < declared[0] < declared[1]


def test_popularity_is_heavy_tailed_and_big_cities_list_more(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        top_share = conn.execute(
            "select sum(n) filter (where r <= 100)::float / sum(n) from "
            "(select contact_click_count as n, row_number() over (order by contact_click_count desc) as r "
            "from core.listings) as t"
        ).fetchone()
        cities = conn.execute(
            "select city from core.listings group by city order by count(*) desc limit 2"
        ).fetchall()
    # the top 1% of listings draw far more than 1% of the clicks
    assert top_share is not None and top_share[0] > 0.15
    assert [c for (c,) in cities] == ["Москва", "Санкт-Петербург"]


def test_generated_people_sign_in_with_the_given_password(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        email = conn.execute(
            "select email from core.users where email is not null and blocked_at is null limit 1"
        )
        address = email.fetchone()[0]  # type: ignore[index]
        row = conn.execute("select token from api.login(%s, %s)", (address, PASSWORD)).fetchone()
        conn.rollback()
    assert row is not None and len(row[0]) > 20


def test_same_seed_scale_and_time_give_the_same_bytes_and_another_seed_does_not(loaded: str) -> None:
    before = digests(loaded)
    again = generate(
        loaded, "--scale", "0.01", "--seed", "7", "--as-of", AS_OF, "--truncate", password=PASSWORD
    )
    assert again.exit_code == 0, again.output
    assert digests(loaded) == before
    other = generate(
        loaded, "--scale", "0.01", "--seed", "8", "--as-of", AS_OF, "--truncate", password=PASSWORD
    )
    assert other.exit_code == 0, other.output
    changed = digests(loaded)
    assert changed["users"] != before["users"] and changed["listings"] != before["listings"]
    restored = generate(
        loaded, "--scale", "0.01", "--seed", "7", "--as-of", AS_OF, "--truncate", password=PASSWORD
    )
    assert restored.exit_code == 0, restored.output


def test_a_marketplace_with_data_is_refused_and_kept(loaded: str) -> None:
    users = count(loaded, "select count(*) from core.users")
    result = generate(loaded, "--scale", "0.01")
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith("error: the marketplace already holds data")
    assert "--truncate" in result.stderr
    assert count(loaded, "select count(*) from core.users") == users
    skipped = generate(loaded, "--scale", "0.01", "--if-empty")
    assert skipped.exit_code == 0 and "nothing generated" in skipped.stdout


def test_check_reports_a_violation_and_fails(loaded: str) -> None:
    with psycopg.connect(loaded, autocommit=True) as conn:
        conn.execute("update core.listings set like_count = like_count + 1 where id = 5")
    try:
        result = CliRunner().invoke(cli, ["generate", "--check"], env={"BAZAAR_ADMIN_DSN": loaded})
    finally:
        with psycopg.connect(loaded, autocommit=True) as conn:
            conn.execute("update core.listings set like_count = like_count - 1 where id = 5")
    assert result.exit_code == 1
    assert "listing_counters" in result.stdout
    assert "error: 1 of" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0"], "Invalid value for '--scale'"),
        (["--as-of", "tomorrow"], "is not an ISO date"),
        (["--as-of", "2999-01-01T00:00:00Z"], "not in the future"),
        (["--months", "0"], "Invalid value for '--months'"),
        (["--as-of", "2001-01-01"], "within the last three years"),
        (["--password", "short"], "8 characters to 72 bytes"),
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str], message: str) -> None:
    result = generate("host=127.0.0.1 port=1 dbname=nowhere", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_database_is_one_line(server: ServerUnderTest) -> None:
    result = generate("host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2", "--scale", "0.01")
    assert result.exit_code == 7
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


CORE_SHAPE = (
    "select (select count(*) from pg_indexes where schemaname = 'core'), "
    "(select count(*) from pg_constraint where connamespace = 'core'::regnamespace), "
    "(select count(*) from core.users), "
    "(select tgenabled from pg_trigger where tgname = 'listings_set_search_vector'), "
    "(select count(*) from pg_class where relnamespace = 'ops'::regnamespace and relname like 'generator%%')"
)


def test_a_failed_load_leaves_the_database_as_it_was(server: ServerUnderTest) -> None:
    # The loader's process has a SIGTERM handler that ends nothing (as one that ran the backup
    # scheduler once had): the producer, blocked on a queue nobody reads any more, must still go.
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        with migrated(server) as (dsn, conn):
            # a rule the generated chat cannot meet: the load must fail late, after many tables
            conn.execute("alter table core.chat_messages add constraint no_chat check (body = '')")
            before = conn.execute(CORE_SHAPE).fetchone()
            result = generate(dsn, "--scale", "0.01")
            assert result.exit_code == 3, result.output
            assert "no_chat" in result.stderr
            assert conn.execute(CORE_SHAPE).fetchone() == before
            assert before is not None and before[2:] == (0, "O", 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert multiprocessing.active_children() == []  # nothing left for the interpreter's exit to wait on


def test_killing_the_loader_releases_its_locks_and_its_producer(server: ServerUnderTest) -> None:
    holds = (
        "select exists (select from pg_locks as l join pg_class as c on c.oid = l.relation "
        "where c.relname = 'users' and l.mode = 'AccessExclusiveLock' and l.granted)"
    )
    with migrated(server) as (dsn, watcher):
        load = subprocess.Popen(
            [sys.executable, "-m", "bazaar", "generate", "--scale", "0.02"],
            env={**os.environ, "BAZAAR_ADMIN_DSN": dsn},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while watcher.execute(holds).fetchone() != (True,):
                assert load.poll() is None and time.monotonic() < deadline, "the load never took its locks"
                time.sleep(0.05)
            producers = psutil.Process(load.pid).children(recursive=True)
            assert producers
            load.kill()  # SIGKILL: no finally, no cleanup in the loader
            load.wait()
            # the server sees the loader gone (its producer does not hold the connection) and rolls back
            watcher.execute("set lock_timeout = '20s'")
            assert watcher.execute("select count(*) from core.users").fetchone() == (0,)
            _, alive = psutil.wait_procs(producers, timeout=20)
            assert alive == []
        finally:
            if load.poll() is None:
                load.kill()


def test_a_second_load_at_the_same_time_is_refused(server: ServerUnderTest) -> None:
    with migrated(server) as (dsn, conn):
        conn.execute("select pg_advisory_lock(hashtextextended('bazaar generate', 0))")  # what a load holds
        result = generate(dsn, "--scale", "0.002")
        assert result.exit_code == 6, result.output
        assert result.stderr.startswith("error: another bazaar generate is loading this database")


def test_the_history_follows_the_settings_of_the_database_it_is_loaded_into(server: ServerUnderTest) -> None:
    with migrated(server) as (dsn, conn):
        conn.execute(
            "update core.settings as s set value = v.value from (values "
            """('reservation_lifetime', '"20 minutes"'::jsonb), ('session_lifetime', '"7 days"'), """
            """('sign_in_code_lifetime', '"2 minutes"'), ('sign_in_code_max_attempts', '2'), """
            "('outbox_max_attempts', '3')) as v (key, value) where s.key = v.key"
        )
        result = generate(dsn, "--scale", "0.005", "--seed", "3", "--as-of", AS_OF)
        assert result.exit_code == 0, result.output
        row = conn.execute(
            "select (select array_agg(distinct reserved_until - created_at) from core.orders), "
            "(select array_agg(distinct expires_at - created_at) from core.sessions), "
            "(select array_agg(distinct expires_at - created_at) from core.sign_in_codes), "
            "(select bool_and(used_at < expires_at) from core.sign_in_codes), "
            "(select array_agg(distinct max_attempts) from core.sign_in_codes), "
            "(select coalesce(array_agg(distinct attempts), '{3}') from core.notifications "
            "where failed_at is not null)"
        ).fetchone()
        checked = CliRunner().invoke(cli, ["generate", "--check"], env={"BAZAAR_ADMIN_DSN": dsn})
    assert row is not None
    minutes = [timedelta(minutes=20)], [timedelta(days=7)], [timedelta(minutes=2)]
    assert (row[0], row[1], row[2]) == minutes
    assert row[3:] == (True, [2], [3])
    assert checked.exit_code == 0, checked.output


@pytest.mark.parametrize("as_of", ["2026-06-30T12:00:00Z", "2026-02-01T00:00:00Z"])
def test_a_short_history_lands_in_its_monthly_partitions(server: ServerUnderTest, as_of: str) -> None:
    # six months whose first month is another month of the year than the last one: partitions are
    # made back to the history's start, so no row waits in a default partition
    with migrated(server) as (dsn, conn):
        result = generate(dsn, "--scale", "0.002", "--seed", "3", "--months", "6", "--as-of", as_of)
        assert result.exit_code == 0, result.output
        broken = conn.execute("select rule, violations from ops.integrity_violations()").fetchall()
        assert broken == []
