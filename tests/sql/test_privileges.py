"""Security by default: what each role can and cannot touch, checked against the catalog so the
checks keep holding as objects are added, and with probe objects created inside the test's
rolled-back transaction to prove the default privileges apply to future objects too."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.harness import as_role

Conn = psycopg.Connection[Any]

SCHEMAS = ["core", "api", "analytics", "ops"]

# Functions in api that PUBLIC can execute: a NULL acl means the built-in default, which
# includes PUBLIC.
PUBLIC_EXECUTABLE_API_FUNCTIONS = """
select p.oid::regprocedure::text
from pg_proc as p
join pg_namespace as n on n.oid = p.pronamespace
where n.nspname = 'api'
  and (p.proacl is null
       or exists (select from aclexplode(p.proacl) as a
                  where a.grantee = 0 and a.privilege_type = 'EXECUTE'))
"""

# api functions that break the convention: not SECURITY DEFINER, or no pinned search_path.
UNSAFE_API_FUNCTIONS = """
select p.oid::regprocedure::text
from pg_proc as p
join pg_namespace as n on n.oid = p.pronamespace
where n.nspname = 'api'
  and p.prokind = 'f'
  and (not p.prosecdef
       or not exists (select from unnest(p.proconfig) as c where c like 'search_path=%'))
"""


def owner_create(db: Conn, statement: str) -> None:
    """Create an object as bazaar_owner, as a migration would."""
    with as_role(db, "bazaar_owner"):
        db.execute(statement.encode())


def column(db: Conn, query: str) -> list[Any]:
    return [row[0] for row in db.execute(query.encode()).fetchall()]


def test_four_schemas_exist_owned_by_bazaar_owner(db: Conn) -> None:
    rows = db.execute(
        "select nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname = any(%s) order by 1",
        [SCHEMAS],
    ).fetchall()
    assert rows == [(s, "bazaar_owner") for s in sorted(SCHEMAS)]


def test_every_object_in_bazaar_schemas_is_owned_by_bazaar_owner(db: Conn) -> None:
    rows = db.execute(
        """
        select c.oid::regclass::text, pg_get_userbyid(c.relowner)
        from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any(%(s)s) and pg_get_userbyid(c.relowner) <> 'bazaar_owner'
        union all
        select p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
        from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname = any(%(s)s) and pg_get_userbyid(p.proowner) <> 'bazaar_owner'
        """,
        {"s": SCHEMAS},
    ).fetchall()
    assert rows == []


def test_roles_exist_and_only_the_stack_gives_them_login(db: Conn) -> None:
    rows = dict(
        db.execute(
            "select rolname, rolsuper or rolcreaterole or rolcreatedb or rolbypassrls from pg_roles "
            "where rolname like 'bazaar%%'"
        ).fetchall()
    )
    assert set(rows) == {"bazaar_owner", "bazaar_app", "bazaar_worker", "bazaar_analyst", "bazaar_monitor"}
    assert not any(rows.values()), "no bazaar role may hold superuser-like attributes"
    monitor = db.execute("select pg_has_role('bazaar_monitor', 'pg_monitor', 'member')").fetchone()
    assert monitor == (True,)


def test_app_cannot_read_any_core_table(db: Conn) -> None:
    owner_create(db, "create table core.probe_secret (id bigint primary key, note text)")
    readable = column(
        db,
        """
        select c.oid::regclass::text from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'core' and c.relkind in ('r', 'p', 'v', 'm', 'f')
          and (has_table_privilege('bazaar_app', c.oid, 'select, insert, update, delete, truncate')
               or has_table_privilege('bazaar_analyst', c.oid, 'select'))
        """,
    )
    assert readable == []
    tables = column(
        db,
        "select c.oid::regclass::text from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = 'core' and c.relkind in ('r', 'p')",
    )
    assert "core.probe_secret" in tables
    for table in tables:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_app"):
            db.execute(f"select * from {table} limit 1".encode())


def test_app_has_no_usage_on_core_ops_or_analytics(db: Conn) -> None:
    rows = db.execute(
        "select s, has_schema_privilege('bazaar_app', s, 'usage') from unnest(%s::text[]) as s order by s",
        [SCHEMAS],
    ).fetchall()
    assert rows == [("analytics", False), ("api", True), ("core", False), ("ops", False)]


def test_public_has_no_privilege_on_schemas_or_database(db: Conn) -> None:
    public_grants = column(
        db,
        """
        select n.nspname from pg_namespace as n, aclexplode(n.nspacl) as a
        where n.nspname in ('core', 'api', 'analytics', 'ops', 'public') and a.grantee = 0
        union all
        select d.datname from pg_database as d, aclexplode(d.datacl) as a
        where d.datname = current_database() and a.grantee = 0
        """,
    )
    assert public_grants == []


def test_no_api_function_is_executable_by_public(db: Conn) -> None:
    owner_create(db, "create function api.probe_answer() returns integer language sql as $$ select 42 $$")
    assert column(db, PUBLIC_EXECUTABLE_API_FUNCTIONS) == []
    privileges = db.execute(
        "select has_function_privilege('bazaar_app', 'api.probe_answer()', 'execute'), "
        "has_function_privilege('bazaar_analyst', 'api.probe_answer()', 'execute'), "
        "has_function_privilege('bazaar_monitor', 'api.probe_answer()', 'execute')"
    ).fetchone()
    assert privileges == (True, False, False)
    with as_role(db, "bazaar_app"):
        assert db.execute("select api.probe_answer()").fetchone() == (42,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_analyst"):
        db.execute("select api.probe_answer()")


def test_functions_outside_api_are_not_executable_by_app(db: Conn) -> None:
    owner_create(db, "create function ops.probe_maintenance() returns integer language sql as $$ select 1 $$")
    row = db.execute("select has_function_privilege('bazaar_app', 'ops.probe_maintenance()', 'execute')")
    assert row.fetchone() == (False,)


def test_api_functions_are_security_definer_with_pinned_search_path(db: Conn) -> None:
    # The check must see a function that breaks the rule ...
    owner_create(db, "create function api.probe_unsafe() returns integer language sql as $$ select 1 $$")
    assert column(db, UNSAFE_API_FUNCTIONS) == ["api.probe_unsafe()"]
    db.rollback()
    # ... and find none among the real ones.
    assert column(db, UNSAFE_API_FUNCTIONS) == []


def test_analytics_views_are_readable_by_analysts_only(db: Conn) -> None:
    owner_create(db, "create view analytics.probe_counts as select 1 as listings")
    rows = db.execute(
        "select has_table_privilege('bazaar_analyst', 'analytics.probe_counts', 'select'), "
        "has_table_privilege('bazaar_app', 'analytics.probe_counts', 'select'), "
        "has_table_privilege('bazaar_analyst', 'analytics.probe_counts', 'insert')"
    ).fetchone()
    assert rows == (True, False, False)
    with as_role(db, "bazaar_analyst"):
        assert db.execute("select listings from analytics.probe_counts").fetchone() == (1,)


# Built-in functions whose effects reach beyond the caller's own session: storage outside any
# table, the api's own locks, waking workers, other sessions, the WAL, server files and stats.
# Matched by name, so a new overload in a later PostgreSQL is caught as well. (Replication-slot
# functions are executable by PUBLIC but check the REPLICATION attribute themselves.)
SIDE_EFFECT_BUILTINS = (
    r"^(lo_.*|loread|lowrite|pg_(try_)?advisory.*|pg_notify|pg_terminate_backend|pg_cancel_backend"
    r"|pg_logical_emit_message|pg_read_.*file|pg_ls_.*|pg_stat_reset.*|pg_reload_conf|pg_rotate_logfile"
    r"|pg_switch_wal|pg_create_restore_point|pg_promote|pg_checkpoint|dblink.*)$"
)


@pytest.mark.parametrize("role", ["bazaar_app", "bazaar_worker", "bazaar_analyst"])
def test_roles_cannot_reach_built_in_capabilities_beyond_their_session(db: Conn, role: str) -> None:
    reachable = column(
        db,
        f"""
        select p.oid::regprocedure::text from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname = 'pg_catalog' and p.proname ~ '{SIDE_EFFECT_BUILTINS}'
            and has_function_privilege('{role}', p.oid, 'execute')
        order by 1
        """,
    )
    assert reachable == []
    assert db.execute(
        f"select has_database_privilege('{role}', current_database(), 'temporary')"
    ).fetchone() == (role == "bazaar_analyst",)


def test_the_owner_keeps_what_the_api_itself_uses(db: Conn) -> None:
    granted = db.execute(
        "select has_function_privilege('bazaar_owner', 'pg_advisory_xact_lock(bigint)', 'execute'), "
        "has_function_privilege('bazaar_owner', 'pg_notify(text, text)', 'execute')"
    ).fetchone()
    assert granted == (True, True)
