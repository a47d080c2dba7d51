"""The masked staging copy (bazaar/backup/mask.py): generated data, plus the personal values only
the api writes (sign-up fingerprints, sign-in codes and their notifications, prefixed failure
identifiers, a seller's message, audit details), masked; no original value survives, the shape does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bazaar import migrate
from bazaar.backup.mask import DETAILS_KEYS, KEPT_TEXTS, PAYLOAD_KEYS, STAGING_CODE, STAGING_PASSWORD, mask
from bazaar.errors import BazaarError
from tests.generator.test_generate import AS_OF, PASSWORD, generate
from tests.harness import SQL_DIR, ServerUnderTest, as_role

SEED = 11
PAYLOAD_KEY_LIST = sorted(PAYLOAD_KEYS)
DETAILS_KEY_LIST = sorted(k for k, kind in DETAILS_KEYS.items() if kind != "object")

# Every personal column masked: a label, and a query of (key, value) for each row (JSON values: one
# row per personal key). Values as text; NULL stays NULL.
PERSONAL: dict[str, str] = {
    "users.display_name": "select id::text, display_name from core.users",
    "users.email": "select id::text, email from core.users",
    "users.phone": "select id::text, phone from core.users",
    "users.telegram_chat_id": "select id::text, telegram_chat_id::text from core.users",
    "users.password_hash": "select id::text, password_hash from core.users",
    "users.blocked_reason": "select id::text, blocked_reason from core.users",
    "users.signup_fingerprint": "select id::text, signup_fingerprint from core.users",
    "sessions.token_hash": "select id::text, encode(token_hash, 'hex') from core.sessions",
    "sign_in_failures.identifier": "select id::text, identifier from core.sign_in_failures",
    "sign_in_codes.phone": "select id::text, phone from core.sign_in_codes",
    "sign_in_codes.code_hash": "select id::text, code_hash from core.sign_in_codes",
    "telegram_link_tokens.token_hash": (
        "select id::text, encode(token_hash, 'hex') from core.telegram_link_tokens"
    ),
    "telegram_link_tokens.chat_id": "select id::text, chat_id::text from core.telegram_link_tokens",
    "password_reset_codes.identifier": "select id::text, identifier from core.password_reset_codes",
    "password_reset_codes.code_hash": "select id::text, code_hash from core.password_reset_codes",
    "listing_cards.seller_name": "select listing_id::text, seller_name from core.listing_cards",
    "listings.contact_name": "select id::text, contact_name from core.listings",
    "listings.contact_phone": "select id::text, contact_phone from core.listings",
    "listings.rejection_reason": "select id::text, rejection_reason from core.listings",
    "listing_status_history.reason": "select id::text, reason from core.listing_status_history",
    "listing_revisions.changes": (
        "select r.id || ':' || e.key, e.value #>> '{}' from core.listing_revisions as r, "
        "jsonb_each(r.changes) as e where e.key = any(%(details_keys)s)"
    ),
    "listing_revisions.reason": "select id::text, reason from core.listing_revisions",
    "order_status_history.reason": "select id::text, reason from core.order_status_history",
    "chat_messages.body": "select id::text, body from core.chat_messages",
    "contact_clicks.fingerprint": "select id::text, fingerprint from core.contact_clicks",
    "notifications.payload": (
        "select n.id || ':' || e.key, e.value #>> '{}' "
        "from core.notifications as n, jsonb_each(n.payload) as e where e.key = any(%(payload_keys)s)"
    ),
    "audit_log.reason": "select id::text, reason from core.audit_log",
    "audit_log.details": (
        "select a.id || ':' || e.key, e.value #>> '{}' from core.audit_log as a, jsonb_each(a.details) as e "
        "where e.key = any(%(details_keys)s) "
        "union all "
        "select a.id || ':changes.' || e.key, e.value #>> '{}' "
        "from core.audit_log as a, jsonb_each(a.details -> 'changes') as e "
        "where jsonb_typeof(a.details -> 'changes') = 'object' and e.key = any(%(details_keys)s)"
    ),
    "reviews.body": "select id::text, body from core.reviews",
    "platform_reviews.body": "select user_id::text, body from core.platform_reviews",
    "saved_searches.name": "select id::text, name from core.saved_searches",
    "saved_searches.query": "select id::text, query from core.saved_searches",
    "saved_search_queue.last_error": "select listing_id::text, last_error from core.saved_search_queue",
}
# Columns that must hold originals for the test to mean something (the generator or the extras
# below fill them; the saved-search queue is empty at a snapshot's instant)
MAY_BE_EMPTY = {"saved_search_queue.last_error"}

Values = dict[str, dict[str, str | None]]


def personal_values(dsn: str) -> Values:
    params = {"payload_keys": PAYLOAD_KEY_LIST, "details_keys": DETAILS_KEY_LIST}
    with psycopg.connect(dsn) as conn:
        return {
            label: {str(key): value for key, value in conn.execute(query, params).fetchall()}
            for label, query in PERSONAL.items()
        }


def row_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select c.relname from pg_class as c where c.relnamespace = 'core'::regnamespace "
                "and c.relkind in ('r', 'p') and not c.relispartition order by 1"
            ).fetchall()
        ]
        return {
            t: conn.execute(sql.SQL("select count(*) from core.{}").format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def one(conn: psycopg.Connection[Any], query: str, *args: Any) -> Any:
    row = conn.execute(query, args).fetchone()
    assert row is not None, query
    return row[0]


def add_personal_data(dsn: str) -> None:
    """What only the api writes: sign-up fingerprints, sign-in codes and their notification, failed
    sign-ins with their prefixes, a block reason kept in an unblock's details, a moderator's edit of
    a contact, a seller's message to clickers; and, through core.notify, a lock-out (phone) and a
    saved-search match (its name)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for n in (1, 2):
            conn.execute(
                "select api.register(%s, %s, %s, %s, null, %s)",
                (
                    f"Степан Огурцов {n}",
                    "long-password-1",
                    f"stepan{n}@mail.test",
                    f"+7999000000{n}",
                    "device-fp-42",
                ),
            )
        admin_email = one(conn, "select email from core.users where role = 'admin' order by id limit 1")
        admin = one(conn, "select token from api.login(%s, %s)", admin_email, PASSWORD)
        target = one(
            conn,
            "select id from core.users where role = 'user' and blocked_at is null order by id desc limit 1",
        )
        conn.execute("select api.block_user(%s, %s, %s)", (admin, target, "продаёт чужие номера, Иван"))
        blocked = one(conn, "select id from core.users where blocked_at is not null order by id limit 1")
        conn.execute("select api.unblock_user(%s, %s, %s)", (admin, blocked, "ошибся, простите"))

        moderator_email, moderator_id = conn.execute(
            "select email, id from core.users where role = 'moderator' order by id limit 1"
        ).fetchone()  # type: ignore[misc]
        listing = one(
            conn,
            "select l.id from core.listings as l where l.status = 'pending' and l.seller_id <> %s "
            "and not exists (select from core.shop_members as m "
            "where m.shop_id = l.shop_id and m.user_id = %s) "
            "order by l.id limit 1",
            moderator_id,
            moderator_id,
        )
        moderator = one(conn, "select token from api.login(%s, %s)", moderator_email, PASSWORD)
        conn.execute(
            "select api.edit_listing(%s, %s, %s)",
            (moderator, listing, '{"contact_name": "Пётр Ильич", "contact_phone": "+79161112233"}'),
        )

        phone = one(
            conn,
            "select phone from core.users where telegram_chat_id is not null and phone is not null "
            "and blocked_at is null and 'telegram' = any(notification_channels) order by id limit 1",
        )
        conn.execute("select api.request_sign_in_code(%s)", (phone,))
        conn.execute("select api.request_sign_in_code(%s)", ("+79990007777",))  # nobody's number
        some_email = one(
            conn, "select email from core.users where email is not null order by id desc limit 1"
        )
        conn.execute("select * from api.login(%s, %s)", (some_email, "wrong-password"))
        conn.execute("select * from api.login(%s, %s)", ("+79990005555", "wrong-password"))

        listing, seller_email = conn.execute(
            "select l.id, u.email from core.listings as l join core.users as u on u.id = l.seller_id "
            "where l.status = 'published' and u.email is not null and u.blocked_at is null "
            "and l.shop_id is null and exists (select from core.contact_clicks as c "
            "join core.users as v on v.id = c.viewer_id "
            "where c.listing_id = l.id and c.viewer_id <> l.seller_id and v.blocked_at is null "
            "and cardinality(v.notification_channels) > 0) order by l.id limit 1"
        ).fetchone()  # type: ignore[misc]
        seller = one(conn, "select token from api.login(%s, %s)", seller_email, PASSWORD)
        conn.execute(
            "select api.notify_clickers(%s, %s, %s)", (seller, listing, "Звоните Наталье: +7 916 123-45-67")
        )

        user, user_phone = conn.execute(
            "select id, phone from core.users where phone is not null and blocked_at is null "
            "and cardinality(notification_channels) > 0 order by id limit 1"
        ).fetchone()  # type: ignore[misc]
        conn.execute(
            "select core.notify(%s, 'sign_in_locked', jsonb_build_object('phone', %s::text, 'until', now()))",
            (user, user_phone),
        )
        conn.execute(
            "select core.notify(s.user_id, 'saved_search_match', jsonb_build_object('saved_search_id', s.id, "
            "'name', s.name, 'listing_id', 1, 'title', 'Капот')) "
            "from core.saved_searches as s join core.users as u on u.id = s.user_id "
            "where u.blocked_at is null and cardinality(u.notification_channels) > 0 order by s.id limit 3"
        )


@contextmanager
def database_copy(server: ServerUnderTest, template: str) -> Iterator[str]:
    """A copy of database TEMPLATE (nobody connected to it), dropped afterwards."""
    name = f"masked_{uuid.uuid4().hex[:12]}"
    with server.admin() as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    try:
        yield server.dsn(name)
    finally:
        with server.admin() as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@contextmanager
def masked_copy(server: ServerUnderTest, template: str, seed: int) -> Iterator[tuple[str, dict[str, int]]]:
    """A copy of database TEMPLATE masked with SEED: its DSN and what mask() returned."""
    with database_copy(server, template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            counts = mask(conn, seed)
        yield dsn, counts


@pytest.fixture(scope="module")
def original(server: ServerUnderTest) -> Iterator[str]:
    """The name of a database with generated data (scale 0.01) and the api's extras, never masked."""
    with server.scratch_database() as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
        result = generate(dsn, "--scale", "0.01", "--seed", "7", "--as-of", AS_OF, password=PASSWORD)
        assert result.exit_code == 0, result.output
        add_personal_data(dsn)
        yield str(conninfo_to_dict(dsn)["dbname"])


@pytest.fixture(scope="module")
def before(server: ServerUnderTest, original: str) -> tuple[Values, dict[str, int]]:
    dsn = server.dsn(original)
    return personal_values(dsn), row_counts(dsn)


@pytest.fixture(scope="module")
def masked(server: ServerUnderTest, original: str) -> Iterator[tuple[str, dict[str, int]]]:
    with masked_copy(server, original, SEED) as result:
        yield result


@pytest.fixture(scope="module")
def after(masked: tuple[str, dict[str, int]]) -> Values:
    return personal_values(masked[0])


def originals(label: str, values: dict[str, str | None]) -> set[str]:
    """The original non-NULL values a column must not hold after masking (the marketplace's own
    reasons are not anyone's words: they stay)."""
    return {v for v in values.values() if v is not None} - set(KEPT_TEXTS)


def test_every_personal_column_had_originals(before: tuple[Values, dict[str, int]]) -> None:
    empty = [label for label, values in before[0].items() if not originals(label, values)]
    assert sorted(empty) == sorted(MAY_BE_EMPTY)
    payload = before[0]["notifications.payload"]
    assert {key.split(":")[1] for key, v in payload.items() if v} >= {
        "code",
        "phone",
        "message",
        "name",
        "reason",
    }
    details = before[0]["audit_log.details"]
    assert {key.split(":")[1] for key, v in details.items() if v} >= {
        "was_blocked_for",
        "changes.contact_name",
        "changes.contact_phone",
    }


# Keys of payloads and details that hold no personal value: ids, amounts, times, what the
# marketplace shows everyone (a listing's title, a channel post's snapshot), settings
PUBLIC_PAYLOAD_KEYS = {
    "order_id", "listing_ids", "total_amount", "deal_id", "seller_id", "listing_id", "title", "old_price",
    "new_price", "currency", "saved_search_id", "post_id", "channel_id", "snapshot", "marked_sold",
    "expires_at", "until",
}  # fmt: skip
PUBLIC_DETAILS_KEYS = {
    "listing_id", "campaign_id", "channel_id", "name", "telegram_chat_id", "from", "to", "key", "until",
    "text", "model_id", "years", "enabled", "title", "description", "brand", "region", "city", "quantity",
    "attributes", "photos", "tags", "revision_id", "fields",
}  # fmt: skip


def test_every_key_of_payloads_and_details_is_judged_personal_or_not(
    server: ServerUnderTest, original: str
) -> None:
    """A new payload or details key must be classified: masked (PAYLOAD_KEYS, DETAILS_KEYS) or not."""
    with psycopg.connect(server.dsn(original)) as conn:
        payload = {
            r[0]
            for r in conn.execute(
                "select distinct e.key from core.notifications as n, jsonb_each(n.payload) as e"
            ).fetchall()
        }
        details = {
            r[0]
            for r in conn.execute(
                "select distinct e.key from core.audit_log as a, jsonb_each(a.details) as e "
                "union select distinct e.key "
                "from core.audit_log as a, jsonb_each(a.details -> 'changes') as e "
                "where jsonb_typeof(a.details -> 'changes') = 'object'"
            ).fetchall()
        }
    assert payload - PAYLOAD_KEYS.keys() - PUBLIC_PAYLOAD_KEYS == set()
    assert details - DETAILS_KEYS.keys() - PUBLIC_DETAILS_KEYS == set()


def test_no_original_value_survives(before: tuple[Values, dict[str, int]], after: Values) -> None:
    survivors = {
        label: sorted(originals(label, values) & {v for v in after[label].values() if v is not None})[:3]
        for label, values in before[0].items()
    }
    assert {label: found for label, found in survivors.items() if found} == {}


def test_null_stays_null_and_a_value_stays_a_value(
    before: tuple[Values, dict[str, int]], after: Values
) -> None:
    for label, values in before[0].items():
        assert after[label].keys() == values.keys(), label
        nulls = {key for key, v in values.items() if v is None}
        assert {key for key, v in after[label].items() if v is None} == nulls, label


def test_the_marketplace_s_own_reasons_stay(before: tuple[Values, dict[str, int]], after: Values) -> None:
    for label in ("listing_status_history.reason", "order_status_history.reason"):
        kept = {key: v for key, v in before[0][label].items() if v in KEPT_TEXTS}
        assert kept
        assert {key: after[label][key] for key in kept} == kept


def test_every_kept_reason_is_one_the_marketplace_s_functions_write() -> None:
    """KEPT_TEXTS copies literals of sql/functions: one that is no longer there is a stale entry."""
    functions = "\n".join(f.read_text(encoding="utf-8") for f in (SQL_DIR / "functions").rglob("*.sql"))
    assert [text for text in KEPT_TEXTS if f"'{text}'" not in functions] == []


def test_row_counts_stay_and_the_counts_returned_are_the_rows_changed(
    before: tuple[Values, dict[str, int]], masked: tuple[str, dict[str, int]]
) -> None:
    dsn, counts = masked
    assert row_counts(dsn) == before[1]
    assert counts["users"] == before[1]["users"]
    assert counts["chat_messages"] == before[1]["chat_messages"]
    assert counts["sessions"] == before[1]["sessions"]
    assert 0 < counts["contact_clicks"] < before[1]["contact_clicks"]  # anonymous clicks only
    assert 0 < counts["notifications"] < before[1]["notifications"]


def test_the_masked_copy_passes_every_integrity_check_and_keeps_uniqueness(
    masked: tuple[str, dict[str, int]],
) -> None:
    with psycopg.connect(masked[0]) as conn:
        assert conn.execute("select * from ops.integrity_violations()").fetchall() == []
        for table, column in (
            ("users", "email"),
            ("users", "phone"),
            ("users", "telegram_chat_id"),
            ("sessions", "token_hash"),
        ):
            distinct, total = conn.execute(
                sql.SQL("select count(distinct {c}), count({c}) from core.{t}").format(
                    c=sql.Identifier(column), t=sql.Identifier(table)
                )
            ).fetchone()  # type: ignore[misc]
            assert distinct == total, (table, column)


def test_values_keep_their_shape(after: Values) -> None:
    emails = {v for v in after["users.email"].values() if v}
    assert all(v.endswith("@example.invalid") for v in emails)
    phones = {v for v in after["users.phone"].values() if v} | set(after["sign_in_codes.phone"].values())
    assert all(v and v.startswith("+70") and len(v) == 12 for v in phones)
    names = [v for v in after["users.display_name"].values() if v]
    assert all(len(v.split()) == 2 for v in names)
    assert len(set(names)) > len(names) // 2
    assert {v for key, v in after["notifications.payload"].items() if key.endswith(":code")} == {STAGING_CODE}
    texts = [v for v in after["chat_messages.body"].values() if v]
    assert len(set(texts)) > 10


def test_the_same_phone_is_the_same_masked_phone_everywhere(
    before: tuple[Values, dict[str, int]], after: Values
) -> None:
    """A sign-in code's number is still its account's, so the code still finds the account."""
    users_by_phone = {v: key for key, v in before[0]["users.phone"].items() if v}
    pairs = [
        (key, users_by_phone[v]) for key, v in before[0]["sign_in_codes.phone"].items() if v in users_by_phone
    ]
    assert pairs
    assert all(after["sign_in_codes.phone"][code] == after["users.phone"][user] for code, user in pairs)


def test_anyone_signs_in_with_the_staging_password(masked: tuple[str, dict[str, int]]) -> None:
    with psycopg.connect(masked[0]) as conn:
        email, phone = conn.execute(
            "select email, phone from core.users where email is not null and phone is not null "
            "and blocked_at is null order by id desc limit 1"
        ).fetchone()  # type: ignore[misc]
        with as_role(conn, "bazaar_app"):
            assert conn.execute("select token from api.login(%s, %s)", (email, STAGING_PASSWORD)).fetchone()
            assert conn.execute("select token from api.login(%s, %s)", (phone, STAGING_PASSWORD)).fetchone()
            # the generated password no longer opens it
            assert conn.execute("select token from api.login(%s, %s)", (email, PASSWORD)).fetchone() is None
        conn.rollback()


def test_a_seed_gives_the_same_values_and_another_seed_others(
    server: ServerUnderTest, original: str, after: Values
) -> None:
    random = {"sessions.token_hash", "telegram_link_tokens.token_hash"}
    with masked_copy(server, original, SEED) as (dsn, _):
        again = personal_values(dsn)
    assert {label: v for label, v in again.items() if label not in random} == {
        label: v for label, v in after.items() if label not in random
    }
    with masked_copy(server, original, 2**31 - 1) as (dsn, _):  # the largest seed: no overflow
        other = personal_values(dsn)
    for label in ("users.display_name", "users.email", "users.phone", "chat_messages.body"):
        same = sum(1 for key, v in other[label].items() if v is not None and v == after[label][key])
        assert same < len(after[label]) // 10, label


def test_a_bad_seed_or_password_is_refused_and_nothing_changes(masked: tuple[str, dict[str, int]]) -> None:
    with psycopg.connect(masked[0], autocommit=True) as conn:
        hashes = conn.execute("select id, password_hash from core.users order by id").fetchall()
        with pytest.raises(BazaarError):
            mask(conn, -1)
        with pytest.raises(BazaarError) as raised:
            mask(conn, SEED + 2, password="short")
        assert raised.value.sqlstate == "22023"
        assert conn.execute("select id, password_hash from core.users order by id").fetchall() == hashes
        assert conn.execute("select count(*) from pg_class where relname like 'mask\\_%'").fetchone() == (0,)
