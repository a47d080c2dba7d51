-- The masked staging copy (bazaar/backup/mask.py), step 2: every distinct personal value with its
-- masked value, set-based. The same original gets the same masked value wherever it is stored.
-- Phones, e-mail addresses and fingerprints: distinct originals get distinct masked values (a
-- bijection of their rank), so uniqueness holds; the rank is the order of first occurrence (the
-- owner's id first), not a function of the value, so the masked value tells nothing about the
-- original even to someone who knows the seed.

-- The personal strings of JSON objects: notification payloads and audit details, one nested level
insert into pg_temp.mask_json_strings (kind, value, source, id)
select
    k.kind,
    e.value #>> '{}',
    1,
    n.id
from core.notifications as n
cross join lateral jsonb_each(n.payload) as e
inner join pg_temp.mask_json_keys as k on k.scope = 'payload' and e.key = k.key
where
    n.payload ?| %(payload_keys)s::text []
    and jsonb_typeof(n.payload) = 'object' and jsonb_typeof(e.value) = 'string'
union all
select
    k.kind,
    e.value #>> '{}',
    2,
    a.id
from core.audit_log as a
cross join lateral jsonb_each(a.details) as e
inner join pg_temp.mask_json_keys as k on k.scope = 'details' and e.key = k.key
where
    a.details ?| %(details_keys)s::text []
    and jsonb_typeof(a.details) = 'object' and jsonb_typeof(e.value) = 'string'
union all
select
    k.kind,
    n.value #>> '{}',
    2,
    a.id
from core.audit_log as a
cross join lateral jsonb_each(a.details) as e
inner join pg_temp.mask_json_keys as o on o.scope = 'details' and e.key = o.key and o.kind = 'object'
cross join lateral jsonb_each(case when jsonb_typeof(e.value) = 'object' then e.value else '{}' end) as n
inner join pg_temp.mask_json_keys as k on k.scope = 'details' and n.key = k.key
where
    a.details ?| %(details_keys)s::text []
    and jsonb_typeof(a.details) = 'object' and jsonb_typeof(n.value) = 'string'
union all
-- changes waiting for (or given) moderation (V0030): the keys of audit details
select
    k.kind,
    e.value #>> '{}',
    3,
    r.id
from core.listing_revisions as r
cross join lateral jsonb_each(r.changes) as e
inner join pg_temp.mask_json_keys as k on k.scope = 'details' and e.key = k.key
where r.changes ?| %(details_keys)s::text [] and jsonb_typeof(e.value) = 'string';

-- Phones: +70 and nine digits. No Russian number begins with +70, and the data generator makes
-- +79 numbers only, so no masked phone equals an original one.
insert into pg_temp.mask_map (kind, original, masked)
select
    'phone',
    o.original,
    '+70' || lpad(mod(o.rank * 387420489 + %(seed)s::bigint * 104729, 1000000000)::text, 9, '0')
from (
    select
        s.original,
        row_number() over (order by min(s.source * 1000000000000000 + s.id)) as rank
    from (
        select
            u.phone as original,
            1::bigint as source,
            u.id
        from core.users as u where u.phone is not null
        union all
        select
            c.phone,
            2,
            c.id
        from core.sign_in_codes as c
        union all
        select
            l.contact_phone,
            3,
            l.id
        from core.listings as l where l.contact_phone is not null
        union all
        -- a failed sign-in's identifier is phone:+7…, email:… (or, as the generator writes it, bare)
        select
            regexp_replace(f.identifier, '^(?:email|phone):', ''),
            4,
            f.id
        from core.sign_in_failures as f where position('@' in f.identifier) = 0
        union all
        select
            j.value,
            4 + j.source,
            j.id
        from pg_temp.mask_json_strings as j where j.kind = 'phone'
        union all
        -- password reset codes' identifiers (V0024); last, so the ranks of the others stay
        select
            substr(r.identifier, 7),
            10,
            r.id
        from core.password_reset_codes as r where r.identifier like 'phone:%%'
    ) as s
    group by s.original
) as o;

-- E-mail addresses: a user name of the pools' locale, the rank, @example.invalid (a domain that
-- cannot exist, RFC 2606). User names in the pool end in a letter, so name and rank read apart.
insert into pg_temp.mask_map (kind, original, masked)
select
    'email',
    o.original,
    p.value || o.rank::text || '@example.invalid'
from (
    select
        s.original,
        row_number() over (order by min(s.source * 1000000000000000 + s.id)) as rank
    from (
        select
            u.email as original,
            1::bigint as source,
            u.id
        from core.users as u where u.email is not null
        union all
        select
            regexp_replace(f.identifier, '^(?:email|phone):', ''),
            2,
            f.id
        from core.sign_in_failures as f where position('@' in f.identifier) > 0
        union all
        select
            j.value,
            2 + j.source,
            j.id
        from pg_temp.mask_json_strings as j where j.kind = 'email'
        union all
        select
            substr(r.identifier, 7),
            10,
            r.id
        from core.password_reset_codes as r where r.identifier like 'email:%%'
    ) as s
    group by s.original
) as o
inner join pg_temp.mask_pool as p
    on p.pool = 'user_names' and p.i = pg_temp.mask_slot(o.rank::text, %(seed)s::bigint, %(pool_size)s);

-- People's names: a first name, and a last name when the original has more than one word, of one
-- gender; the same name gives the same masked name (namesakes stay namesakes).
insert into pg_temp.mask_map (kind, original, masked)
select
    'name',
    o.original,
    case when position(' ' in btrim(o.original)) > 0 then f.value || ' ' || l.value else f.value end
from (
    select
        s.original,
        hashtextextended(s.original, %(seed)s::bigint + 1) as h
    from (
        select u.display_name as original from core.users as u
        union
        select l.contact_name from core.listings as l where l.contact_name is not null
        union
        select j.value from pg_temp.mask_json_strings as j where j.kind = 'name'
    ) as s
) as o
inner join pg_temp.mask_pool as f
    on
        f.pool = case when o.h & 1 = 0 then 'male_first' else 'female_first' end
        and f.i = mod(mod(o.h >> 1, %(pool_size)s) + %(pool_size)s, %(pool_size)s)
inner join pg_temp.mask_pool as l
    on
        l.pool = case when o.h & 1 = 0 then 'male_last' else 'female_last' end
        and l.i = mod(mod(o.h >> 24, %(pool_size)s) + %(pool_size)s, %(pool_size)s);

-- Texts people wrote (but chat messages, masked by the same rule where they are): the start of a
-- passage chosen by the text's hash, as long as the original (at most 2000 characters), cut at a
-- word. The marketplace's own reasons are not in the map: they stay.
insert into pg_temp.mask_map (kind, original, masked)
select
    'text',
    o.original,
    pg_temp.mask_cut(p.body, least(char_length(o.original), 2000))
from (
    select u.blocked_reason as original from core.users as u where u.blocked_reason is not null
    union
    select l.rejection_reason from core.listings as l where l.rejection_reason is not null
    union
    select h.reason from core.listing_status_history as h where h.reason is not null
    union
    select h.reason from core.order_status_history as h where h.reason is not null
    union
    select a.reason from core.audit_log as a where a.reason is not null
    union
    select r.reason from core.listing_revisions as r where r.reason is not null
    union
    select r.body from core.reviews as r
    union
    select r.body from core.platform_reviews as r
    union
    select s.name from core.saved_searches as s
    union
    select s.query from core.saved_searches as s where s.query is not null
    union
    select q.last_error from core.saved_search_queue as q where q.last_error is not null
    union
    select j.value from pg_temp.mask_json_strings as j where j.kind = 'text'
) as o
inner join pg_temp.mask_passages as p on p.n = pg_temp.mask_slot(o.original, %(seed)s::bigint, %(passages)s)
where o.original <> all(%(kept_texts)s::text []);

-- Sign-in codes in notifications: the staging code
insert into pg_temp.mask_map (kind, original, masked)
select distinct
    'code',
    j.value,
    %(code)s
from pg_temp.mask_json_strings as j where j.kind = 'code';

-- Client fingerprints (sign-up and contact clicks; one device may be both): x and 15 hex digits,
-- never a hexadecimal string like the generator's: two bijections of the rank modulo 2^32 and
-- 2^28 (odd multipliers), the first of which keeps them distinct.
insert into pg_temp.mask_fingerprint_map (original, masked)
select
    o.original,
    'x' || lpad(to_hex(mod(o.rank * 2654435761 + %(seed)s::bigint, 4294967296)), 8, '0')
    || lpad(to_hex(mod(o.rank * 2246822519 + %(seed)s::bigint * 7, 268435456)), 7, '0')
from (
    select
        s.original,
        row_number() over (order by min(s.source * 1000000000000000 + s.id)) as rank
    from (
        select
            u.signup_fingerprint as original,
            1::bigint as source,
            u.id
        from core.users as u where u.signup_fingerprint is not null
        union all
        select
            c.fingerprint,
            2,
            c.id
        from core.contact_clicks as c where c.fingerprint is not null
    ) as s
    group by s.original
) as o;

analyze pg_temp.mask_map;

analyze pg_temp.mask_fingerprint_map;

analyze pg_temp.mask_pool;

analyze pg_temp.mask_passages
