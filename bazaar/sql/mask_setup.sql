-- The masked staging copy (bazaar/backup/mask.py), step 1: the transaction's settings, the temporary
-- tables the masking reads and fills (pools, passages, rules for JSON keys, the maps) and two helper
-- functions, all in pg_temp: nothing of this outlives the transaction (mask_teardown.sql drops it).
-- Runs as a superuser on a restored throwaway instance, never on the live cluster.

-- The audit log refuses UPDATE (trigger audit_log_is_append_only), and the other triggers would
-- redo work the masking does not need (search vectors, channel posts): replica mode fires none of
-- them, and no foreign-key check either (no key changes). Acceptable only because this database is
-- a copy restored for staging that nobody else writes to.
set local session_replication_role = replica;

-- the maps are joined with the largest tables (contact clicks): hash them in memory
set local work_mem = '256MB';

set local statement_timeout = 0;

-- Faker values of another locale than the generator's (first and last names, user names), POOL each
create temporary table mask_pool (
    pool text not null,
    i integer not null,
    value text not null,
    primary key (pool, i)
) on commit drop;

-- Texts: passage N is the pool's sentences from the N-th on, longer than any masked text; a masked
-- text is the start of one passage, as long as the original (cut at a word).
create temporary table mask_passages (
    n integer primary key,
    body text not null
) on commit drop;
-- a passage (about 4 kB) stays in its row, uncompressed: reading it costs no detoasting
alter table pg_temp.mask_passages alter column body set storage plain;

-- Which keys of a JSON object (notification payloads, audit details) hold what kind of personal
-- value: phone, email, code, name (a person's), text; object: a nested object, masked by the same
-- rules of its scope
create temporary table mask_json_keys (
    scope text not null,
    key text not null,
    kind text not null,
    primary key (scope, key)
) on commit drop;

-- Original -> masked value, per kind (phone, email, name, text, code), built set-based by
-- mask_maps.sql from every place a value occurs: the same phone on an account, its sign-in codes, a
-- listing and a notification is one masked phone.
create temporary table mask_map (
    kind text not null,
    original text not null,
    masked text not null,
    primary key (kind, original)
) on commit drop;

-- Client fingerprints (millions, from contact clicks) apart: joined, not looked up
create temporary table mask_fingerprint_map (
    original text primary key,
    masked text not null
) on commit drop;

-- The personal strings of JSON objects (notification payloads, audit details), by kind
create temporary table mask_json_strings (
    kind text not null,
    value text not null,
    source integer not null,
    id bigint not null
) on commit drop;

-- The passage (or pool slot) of a value: a hash of it with the seed, in 0 .. P_N - 1. A one-expression
-- SQL function, inlined into the statements that call it (a function PostgreSQL 15 cannot inline
-- costs half a millisecond a call).
create function pg_temp.mask_slot(p_value text, p_seed bigint, p_n integer) returns integer
language sql
immutable
parallel safe
as $$
    select (mod(mod(hashtextextended(p_value, p_seed), p_n) + p_n, p_n))::integer
$$;

-- The first P_LENGTH characters of a passage, without a word cut in two (unless the first word is
-- longer). Inlined.
create function pg_temp.mask_cut(p_body text, p_length integer) returns text
language sql
immutable
parallel safe
as $$
    select coalesce(
        nullif(regexp_replace(left(p_body, p_length + 1), '\s*\S*$', ''), ''),
        left(p_body, p_length)
    )
$$;
