"""The masked staging copy: every personal value of a restored `bazaar` database replaced, in one
transaction, so application teams get production-shaped data without anyone's personal data.

`bazaar backup stage --to DIR` restores the latest backup into a new instance and calls `mask()` on
it, as a superuser. What changes (bazaar/sql/mask_*.sql says it table by table):

- people's names (users and the listing cards that show them, a listing's contact name, names in
  notifications): names of the uk_UA Faker pools (the generator draws ru_RU ones), with every
  name Faker's ru_RU lists hold left out;
- e-mail addresses: ``<user name><n>@example.invalid``; phones: ``+70`` and nine digits (no Russian
  number begins so; the generator makes ``+79`` ones); Telegram chat ids from 10^15 on;
  client fingerprints ``x`` and 15 hex digits. One original is one masked value wherever it is
  stored, distinct originals stay distinct (the unique indexes hold), and the masked value depends
  on the order the originals first occur, never on the value itself;
- texts people wrote (chat, reviews, reasons, saved searches, a seller's message): the start of a
  passage of uk_UA Faker sentences as long as the original, cut at a word; the same text gives the
  same masked text. Reasons the marketplace writes itself (`KEPT_TEXTS`) stay;
- every account's password hash: one bcrypt hash of the staging password; every sign-in code's hash
  one of the staging code (`STAGING_CODE`, also the code in sign-in notifications); session token
  hashes: random (no session survives: sign in again).

Staging password: ``bazaar-staging`` (`STAGING_PASSWORD`) unless the caller gives another. It is not
a secret: it opens the masked copy only, where every account has it, so teams can sign in as anyone.

What stays: keys, foreign keys, NULL or not, row counts, timestamps, amounts, and what the
marketplace shows everyone (listing titles and descriptions, shop names, ads, channels, tags).

The seed draws the pools and salts every hash: the same data and seed give the same masked values
(but for session token hashes, which are random). Names and texts are chosen by a hash of the
original with the seed, so whoever knows the seed and guesses a whole original exactly can tell
whether it occurs; a copy that leaves the team can be masked with a random seed.

All of it is set-based SQL (maps of original to masked values, joined): 10 s at generator scale
0.1, under 2 minutes at scale 1 (100k users, 2M chat messages, 10M contact clicks) on two cores.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from faker import Faker
from faker.providers.person.ru_RU import Provider as RussianPeople

from bazaar import queries, sqlscript
from bazaar.errors import EXIT_BAD_ARGUMENT, EXIT_WRONG_STATE, BazaarError
from generator.pools import POOL, Pools

STAGING_PASSWORD = "bazaar-staging"  # noqa: S105 (documented: it opens the masked copy only)
STAGING_CODE = "000000"
# Another locale than the generator's ru_RU: Cyrillic names and texts, none of them the generator's
LOCALE = "uk_UA"
# The longest text a passage must cover (chat messages and reviews hold at most 2000 characters)
MAX_TEXT = 2000
# The reasons the marketplace's functions write themselves (sql/functions: listing and order
# status machines, expiry jobs, bootstrap): not anyone's words, so not masked.
KEPT_TEXTS = (
    "every unit reserved",
    "units available again",
    "stock sold out",
    "reservation released",
    "category lifetime reached",
    "not paid in time",
    "first admin, appointed by an operator",
)
# JSON keys that hold personal values, by kind. Payloads: sign_in_code (code), sign_in_locked
# (phone), seller_message (message), saved_search_match (name: the search's), order_* and
# moderation_* (reason). Details: unblock_user (was_blocked_for), edit_listing (changes: contact
# name and phone). Not masked: listing titles (public), channel names, ad texts, setting values.
PAYLOAD_KEYS = {
    "code": "code",
    "phone": "phone",
    "contact_phone": "phone",
    "email": "email",
    "display_name": "name",
    "contact_name": "name",
    "name": "text",
    "message": "text",
    "reason": "text",
    "body": "text",
    "address": "text",
}
DETAILS_KEYS = {
    "changes": "object",
    "phone": "phone",
    "contact_phone": "phone",
    "email": "email",
    "display_name": "name",
    "contact_name": "name",
    "reason": "text",
    "was_blocked_for": "text",
    "message": "text",
    "address": "text",
}
# Masked in this order, one statement each (bazaar/sql/mask_<table>.sql)
TABLES = (
    "users",
    "sessions",
    "sign_in_failures",
    "sign_in_codes",
    "password_reset_codes",
    "telegram_link_tokens",
    "listings",
    "listing_status_history",
    "listing_revisions",
    "order_status_history",
    "chat_messages",
    "contact_clicks",
    "notifications",
    "audit_log",
    "reviews",
    "platform_reviews",
    "saved_searches",
    "saved_search_queue",
    "listing_cards",  # after users: the cards show their (masked) names
)
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_USER_NAME = re.compile(r"[a-z][a-z0-9._]*[a-z._]")

Progress = Callable[[str, int, float], None]


def mask(
    conn: psycopg.Connection[Any],
    seed: int = 1,
    *,
    password: str = STAGING_PASSWORD,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Replace every personal value of the database CONN is connected to (as a superuser), in one
    transaction; return how many rows changed per table. Call PROGRESS, if given, with each table,
    its rows and seconds. Refuses a server in recovery or with streaming standbys (the live
    cluster): only a restored copy is masked. Commits, unless the caller has a transaction open (it
    is then a savepoint of theirs)."""
    if not 0 <= seed < 2**31:
        raise BazaarError(f"the seed must be 0 to {2**31 - 1}, not {seed}", exit_code=EXIT_BAD_ARGUMENT)
    counts: dict[str, int] = {}
    try:
        with conn.transaction():
            started = time.monotonic()
            _refuse_live(conn)
            params = prepare(conn, seed, password)
            if progress:
                progress("(maps)", 0, time.monotonic() - started)
            for table in TABLES:
                started = time.monotonic()
                counts[table] = conn.execute(queries.load(f"mask_{table}"), params).rowcount
                if progress:
                    progress(table, counts[table], time.monotonic() - started)
            _script(conn, "mask_teardown")
    except psycopg.Error as exc:
        raise BazaarError.from_psycopg(exc, "masking failed") from exc
    return counts


def prepare(conn: psycopg.Connection[Any], seed: int, password: str) -> dict[str, Any]:
    """Inside the masking's transaction: its settings, temporary tables and helpers, the pools and
    passages (COPY), the hashes and the maps; the parameters of the statements that follow."""
    pools = staging_pools(seed)
    texts = passages(pools.sentences)
    params: dict[str, Any] = {
        "seed": seed,
        "passages": len(texts),
        "pool_size": POOL,
        "code": STAGING_CODE,
        "kept_texts": list(KEPT_TEXTS),
        "payload_keys": sorted(PAYLOAD_KEYS),
        "details_keys": sorted(DETAILS_KEYS),
        "rule_scopes": ["payload"] * len(PAYLOAD_KEYS) + ["details"] * len(DETAILS_KEYS),
        "rule_keys": [*PAYLOAD_KEYS, *DETAILS_KEYS],
        "rule_kinds": [*PAYLOAD_KEYS.values(), *DETAILS_KEYS.values()],
    }
    _script(conn, "mask_setup")
    conn.execute(queries.load("mask_rules"), params)
    with conn.cursor().copy(queries.load("mask_copy_pool")) as copy:
        for row in _pool_rows(pools):
            copy.write_row(row)
    with conn.cursor().copy(queries.load("mask_copy_passages")) as copy:
        for n, body in enumerate(texts):
            copy.write_row((n, body))
    params.update(_hashes(conn, seed, password))
    _script(conn, "mask_maps", params)
    return params


def staging_pools(seed: int) -> Pools:
    """The generator's pools (generator/pools.py), drawn from the uk_UA locale: POOL values each.
    Names Faker's ru_RU lists hold are left out, so no masked name is one the generator (ru_RU) can
    make; user names end in a letter (an e-mail address appends a number to one)."""
    fake = Faker(LOCALE)
    fake.seed_instance(seed)
    russian = _russian_names()

    def draw(make: Callable[[], str], keep: Callable[[str], bool]) -> tuple[str, ...]:
        values: list[str] = []
        for _ in range(POOL * 50):
            value = unicodedata.normalize("NFC", make()).strip()
            if keep(value):
                values.append(value)
                if len(values) == POOL:
                    return tuple(values)
        raise RuntimeError(f"the {LOCALE} pools give too few values unlike ru_RU's")

    def not_russian(value: str) -> bool:
        return bool(value) and value not in russian and " " not in value

    def sentence() -> str:
        # Faker capitalises a first word after its apostrophe too ("МʼЯта")
        return re.sub(r"(?<=\u02bc)\w", lambda m: m.group(0).lower(), fake.sentence())

    def user_name() -> str:
        return re.sub(r"[0-9]+$", "", fake.user_name().lower())

    return Pools(
        male_first=draw(fake.first_name_male, not_russian),
        male_last=draw(fake.last_name_male, not_russian),
        female_first=draw(fake.first_name_female, not_russian),
        female_last=draw(fake.last_name_female, not_russian),
        user_names=draw(user_name, lambda v: _USER_NAME.fullmatch(v) is not None),
        email_domains=("example.invalid",),
        companies=(),
        sentences=draw(sentence, lambda v: bool(v) and "\t" not in v and "\n" not in v),
    )


def passages(sentences: tuple[str, ...]) -> list[str]:
    """Passage N: the sentences from the N-th on (wrapping round), just longer than MAX_TEXT."""
    out = []
    for n in range(len(sentences)):
        parts: list[str] = []
        length = -1
        i = n
        while length <= MAX_TEXT:
            parts.append(sentences[i % len(sentences)])
            length += len(parts[-1]) + 1
            i += 1
        out.append(" ".join(parts))
    return out


def _russian_names() -> frozenset[str]:
    names: set[str] = set()
    for attribute in (
        "first_names_male",
        "first_names_female",
        "last_names_male",
        "last_names_female",
        "middle_names_male",
        "middle_names_female",
    ):
        names.update(getattr(RussianPeople, attribute, ()))
    return frozenset(names)


def _pool_rows(pools: Pools) -> Iterator[tuple[str, int, str]]:
    for name in ("male_first", "male_last", "female_first", "female_last", "user_names"):
        values: tuple[str, ...] = getattr(pools, name)
        for i, value in enumerate(values):
            yield name, i, value


def _salt(seed: int, what: str) -> str:
    """22 characters of a bcrypt salt made from the seed: the same seed, the same hash."""
    digest = hashlib.sha256(f"bazaar-mask:{what}:{seed}".encode()).digest()
    return "".join(_BCRYPT_ALPHABET[b % 64] for b in digest)[:22]


def _hashes(conn: psycopg.Connection[Any], seed: int, password: str) -> dict[str, str]:
    row = conn.execute(
        queries.load("mask_hashes"),
        {
            "password": password,
            "salt": _salt(seed, "password"),
            "code": STAGING_CODE,
            "code_salt": _salt(seed, "code"),
        },
    ).fetchone()
    assert row is not None
    return {"password_hash": str(row[1]), "code_hash": str(row[2])}


def _script(conn: psycopg.Connection[Any], name: str, params: dict[str, Any] | None = None) -> None:
    for statement in sqlscript.split(queries.load(name)):
        conn.execute(statement.text, params)


def _refuse_live(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute(queries.load("mask_guard")).fetchone()
    assert row is not None
    in_recovery, standbys, superuser, database = row
    if in_recovery:
        raise BazaarError(f"cannot mask {database}: the server is in recovery", exit_code=EXIT_WRONG_STATE)
    if standbys:
        raise BazaarError(
            f"refusing to mask {database}: {standbys} standby(s) stream from this server",
            exit_code=EXIT_WRONG_STATE,
            hint="mask a restored copy (bazaar backup stage), never the live cluster",
        )
    if not superuser:
        raise BazaarError(f"masking {database} needs a superuser", exit_code=EXIT_WRONG_STATE)
