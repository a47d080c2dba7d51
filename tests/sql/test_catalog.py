"""The catalog checks itself: rules that must hold for every api function, every foreign key and
every lookup path, read from pg_catalog so they keep holding as objects are added."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

Conn = psycopg.Connection[Any]


def test_there_are_api_functions_to_check(db: Conn) -> None:
    row = db.execute("select count(*) from pg_proc where pronamespace = 'api'::regnamespace").fetchone()
    assert row is not None and row[0] >= 20


# The outbox functions hand out contacts and sign-in codes: delivery workers only.
WORKER_FUNCTIONS = {
    "api.claim_notifications(text,integer,text[])",
    "api.ack_notification(bigint,text,text)",
    "api.sending_notification(bigint,text)",
    "api.fail_notification(bigint,text,text,boolean,integer)",
    "api.dead_letters(integer,bigint)",
    "api.dead_letter(bigint)",
    "api.retry_dead_letter(bigint)",
    "api.outbox_stats()",
    "api.claim_channel_posts(text,integer)",
    "api.channel_post_delivered(text,bigint,bigint,text)",
    "api.queue_operator_alerts(jsonb)",
    "api.telegram_poll(text)",
    "api.telegram_polled(text,bigint)",
    "api.telegram_start(text,bigint)",
    "api.telegram_contact(bigint,text,bigint)",
}


def test_every_api_function_is_documented_and_executable_by_exactly_one_role(db: Conn) -> None:
    rows = db.execute(
        """
        select p.oid::regprocedure::text,
               coalesce(obj_description(p.oid, 'pg_proc'), '') <> '' as documented,
               has_function_privilege('bazaar_app', p.oid, 'execute') as app,
               has_function_privilege('bazaar_worker', p.oid, 'execute') as worker,
               has_function_privilege('bazaar_analyst', p.oid, 'execute') as analyst,
               p.provolatile in ('i', 's', 'v') as volatility_stated
        from pg_proc as p
        where p.pronamespace = 'api'::regnamespace
        """
    ).fetchall()
    expected = {
        name: (True, name not in WORKER_FUNCTIONS, name in WORKER_FUNCTIONS, False, True) for name, *_ in rows
    }
    assert {name: tuple(rest) for name, *rest in rows} == expected
    assert set(expected) >= WORKER_FUNCTIONS


def test_functions_outside_api_are_not_security_definer(db: Conn) -> None:
    # Helpers in core/ops run with the rights of the api function that calls them. Only deferred
    # constraint triggers need their own: they fire at COMMIT, as the session user.
    rows = db.execute(
        """
        select p.oid::regprocedure::text from pg_proc as p
        where p.pronamespace in ('core'::regnamespace, 'ops'::regnamespace) and p.prosecdef
          and not exists (select from pg_trigger as t where t.tgfoid = p.oid and t.tgdeferrable)
        """
    ).fetchall()
    assert rows == []


def test_every_foreign_key_has_an_index_that_leads_with_its_columns(db: Conn) -> None:
    rows = db.execute(
        """
        select c.conrelid::regclass::text, c.conname
        from pg_constraint as c
        where c.contype = 'f'
          and c.connamespace = 'core'::regnamespace
          and not exists (
              select from pg_index as i
              where i.indrelid = c.conrelid
                and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
          )
        """
    ).fetchall()
    # partitions inherit their parent's indexes; report parents only
    assert [r for r in rows if "_20" not in r[0] and not r[0].endswith("_default")] == []


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("select id from core.users where email = 'a@example.com'", "index_users_on_email"),
        ("select id from core.users where phone = '+79160000000'", "index_users_on_phone"),
        ("select id from core.users where telegram_chat_id = 1", "index_users_on_telegram_chat_id"),
        ("select * from core.sessions where token_hash = '\\x00'::bytea", "index_sessions_on_token_hash"),
        (
            "select count(*) from core.sign_in_failures where identifier = 'email:a' "
            "and failed_at > now() - interval '15 minutes'",
            "index_sign_in_failures_on_identifier_failed_at",
        ),
        (
            "select * from core.sign_in_codes where user_id = 1 order by created_at desc limit 1",
            "index_sign_in_codes_on_user_id_created_at",
        ),
        ("select 1 from core.shops where lower(name) = 'x'", "index_shops_on_lower_name"),
        ("select * from core.shop_members where user_id = 1", "index_shop_members_on_user_id"),
        # either serves it in one probe; which one is the planner's coin toss on a tiny table
        (
            "select * from core.shop_members where shop_id = 1 and user_id = 2",
            ("pk_shop_members", "index_shop_members_on_user_id"),
        ),
        ("select * from core.audit_log order by id desc limit 50", "Index Scan Backward using audit_log_"),
    ],
)
def test_api_lookups_are_served_by_an_index(db: Conn, query: str, index: str | tuple[str, ...]) -> None:
    # Tiny test tables make sequential scans cheapest; forbid them to see what can serve the query.
    db.execute("set local enable_seqscan = off")
    plan = "\n".join(r[0] for r in db.execute(f"explain {query}".encode()).fetchall())
    assert any(i in plan for i in ((index,) if isinstance(index, str) else index)), plan
