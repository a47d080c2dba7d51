-- Marketplace people: users and their sign-in (passwords, sessions, Telegram codes), shops with
-- members, platform roles, settings, and the audit log of staff actions. Rules live in
-- sql/functions/; this file holds the tables and the constraints no function may break.

-- pgcrypto (bcrypt, random bytes, sha256) lives in its own schema: nobody but the owner uses it.
create schema ext;
comment on schema ext is 'Extensions used by bazaar functions (pgcrypto). Not granted to anyone.';
create extension pgcrypto with schema ext;

create type core.user_role as enum ('user', 'moderator', 'admin');
comment on type core.user_role is 'Platform role: moderators review content, admins also manage people.';

create type core.notification_channel as enum ('telegram', 'email', 'sms');
comment on type core.notification_channel is 'Where a user accepts notifications and recovery messages.';

create type core.shop_member_role as enum ('owner', 'manager', 'seller');
comment on type core.shop_member_role is
'owner: manages members; manager: edits the shop; seller: publishes for the shop.';

-- Settings an admin controls; functions read them with core.setting(key).
create table core.settings (
    key text not null,
    value jsonb not null,
    description text not null,
    updated_at timestamptz not null default now(),
    constraint pk_settings primary key (key)
);
comment on table core.settings is 'Tunable rules of the marketplace, one JSON value per key.';

insert into core.settings (key, value, description) values
('session_lifetime', '"30 days"', 'How long a session token stays valid after sign-in.'),
('bcrypt_cost', '10', 'bcrypt work factor for new password hashes (4..15).'),
('sign_in_failure_limit', '5', 'Failed sign-ins per identifier within the window before refusing more.'),
('sign_in_failure_window', '"15 minutes"', 'Window over which failed sign-ins are counted.'),
('sign_in_code_lifetime', '"5 minutes"', 'How long a Telegram sign-in code is valid.'),
('sign_in_code_max_attempts', '5', 'Wrong entries a sign-in code tolerates before it is burnt.'),
('sign_in_code_resend_interval', '"60 seconds"', 'Minimum time between two codes for one user.');

create table core.users (
    id bigint generated always as identity,
    display_name text not null,
    email text,
    phone text,
    telegram_chat_id bigint,
    password_hash text not null,
    role core.user_role not null default 'user',
    notification_channels core.notification_channel[] not null default '{}',
    created_at timestamptz not null default now(),
    blocked_at timestamptz,
    blocked_reason text,
    blocked_by bigint,
    constraint pk_users primary key (id),
    constraint fk_users_blocked_by_users foreign key (blocked_by)
    references core.users (id) on delete set null,
    constraint check_users_display_name_length check (
        char_length(display_name) between 1 and 80 and display_name = btrim(display_name)
    ),
    constraint check_users_email_format check (
        email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
        and char_length(email) <= 254 and email = lower(email)
    ),
    constraint check_users_phone_format check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    constraint check_users_contact_present check (email is not null or phone is not null),
    constraint check_users_password_hash_bcrypt check (password_hash like '$2_$%'),
    constraint check_users_block_reason check ((blocked_at is null) = (blocked_reason is null))
);
comment on table core.users is
'Everyone who signs in: buyers, private sellers, shop members, moderators, admins.';
comment on column core.users.phone is 'E.164, normalised by core.normalize_phone (+79161234567).';
comment on column core.users.email is 'Lower-cased; unique when present.';
comment on column core.users.password_hash is
'bcrypt (pgcrypto crypt/gen_salt bf); the password is never stored.';
comment on column core.users.notification_channels is
'Preferred channels; each needs its contact (email, phone for sms, telegram_chat_id).';

create unique index index_users_on_email on core.users (email);
create unique index index_users_on_phone on core.users (phone);
create unique index index_users_on_telegram_chat_id on core.users (telegram_chat_id);
create index index_users_on_blocked_by on core.users (blocked_by);

create table core.sessions (
    id bigint generated always as identity,
    user_id bigint not null,
    token_hash bytea not null,
    method text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz,
    constraint pk_sessions primary key (id),
    constraint fk_sessions_user_id_users foreign key (user_id) references core.users (id) on delete cascade,
    constraint check_sessions_method check (method in ('password', 'telegram_code')),
    constraint check_sessions_token_hash_length check (octet_length(token_hash) = 32),
    constraint check_sessions_expiry check (expires_at > created_at)
);
comment on table core.sessions is
'Signed-in sessions. Only the SHA-256 of each token is kept; the token itself is shown once, at sign-in.';

create unique index index_sessions_on_token_hash on core.sessions (token_hash);
create index index_sessions_on_user_id on core.sessions (user_id) where revoked_at is null;

create table core.sign_in_failures (
    id bigint generated always as identity,
    identifier text not null,
    user_id bigint,
    failed_at timestamptz not null default now(),
    constraint pk_sign_in_failures primary key (id),
    constraint fk_sign_in_failures_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade
);
comment on table core.sign_in_failures is
'Failed password sign-ins, counted per normalised identifier to throttle guessing.';

create index index_sign_in_failures_on_identifier_failed_at on core.sign_in_failures (identifier, failed_at);
create index index_sign_in_failures_on_user_id on core.sign_in_failures (user_id);

create table core.sign_in_codes (
    id bigint generated always as identity,
    user_id bigint not null,
    code_hash text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    attempts integer not null default 0,
    max_attempts integer not null,
    used_at timestamptz,
    constraint pk_sign_in_codes primary key (id),
    constraint fk_sign_in_codes_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint check_sign_in_codes_attempts check (attempts between 0 and max_attempts)
);
comment on table core.sign_in_codes is
'Six-digit Telegram sign-in codes (bcrypt-hashed), with expiry and a bounded number of attempts.';

create index index_sign_in_codes_on_user_id_created_at on core.sign_in_codes (user_id, created_at);

create table core.shops (
    id bigint generated always as identity,
    name text not null,
    description text not null default '',
    created_at timestamptz not null default now(),
    created_by bigint,
    constraint pk_shops primary key (id),
    constraint fk_shops_created_by_users foreign key (created_by)
    references core.users (id) on delete set null,
    constraint check_shops_name_length check (char_length(name) between 2 and 100 and name = btrim(name)),
    constraint check_shops_description_length check (char_length(description) <= 4000)
);
comment on table core.shops is 'Seller accounts shared by several users (members).';

create unique index index_shops_on_lower_name on core.shops (lower(name));
create index index_shops_on_created_by on core.shops (created_by);

create table core.shop_members (
    shop_id bigint not null,
    user_id bigint not null,
    role core.shop_member_role not null,
    added_at timestamptz not null default now(),
    added_by bigint,
    constraint pk_shop_members primary key (shop_id, user_id),
    constraint fk_shop_members_shop_id_shops foreign key (shop_id)
    references core.shops (id) on delete cascade,
    constraint fk_shop_members_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint fk_shop_members_added_by_users foreign key (added_by)
    references core.users (id) on delete set null
);
comment on table core.shop_members is
'Who belongs to which shop, with which role. A shop always keeps an owner.';

create index index_shop_members_on_user_id on core.shop_members (user_id);
create index index_shop_members_on_added_by on core.shop_members (added_by);

-- A shop always keeps an owner: checked at commit, after every change of membership.
-- SECURITY DEFINER: a deferred trigger fires at COMMIT, after the api function that changed the
-- row has returned, so it runs as the session user (bazaar_app), who cannot read core.
create function core.check_shop_keeps_owner() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if exists (select from core.shops as s where s.id = old.shop_id)
        and not exists (
            select from core.shop_members as m where m.shop_id = old.shop_id and m.role = 'owner'
        ) then
        raise exception using
            errcode = '55000',
            message = format('shop %s would be left without an owner', old.shop_id),
            hint = 'make another member the owner first';
    end if;
    return null;
end
$$;
comment on function core.check_shop_keeps_owner() is
'Constraint trigger: a shop that still exists has at least one owner at commit.';

create constraint trigger shop_keeps_owner
after update or delete on core.shop_members
deferrable initially deferred
for each row execute function core.check_shop_keeps_owner();

-- The audit log: every staff action, partitioned by month, append-only.
create table core.audit_log (
    id bigint generated always as identity,
    created_at timestamptz not null default now(),
    actor_id bigint,
    action text not null,
    target_user_id bigint,
    target_shop_id bigint,
    reason text,
    details jsonb not null default '{}',
    constraint pk_audit_log primary key (id, created_at),
    constraint fk_audit_log_actor_id_users foreign key (actor_id)
    references core.users (id) on delete set null,
    constraint fk_audit_log_target_user_id_users foreign key (target_user_id)
    references core.users (id) on delete set null,
    constraint fk_audit_log_target_shop_id_shops foreign key (target_shop_id)
    references core.shops (id) on delete set null,
    constraint check_audit_log_action check (action ~ '^[a-z_]+$')
) partition by range (created_at);
comment on table core.audit_log is
'Who did what to whom, when and why: admin and moderator actions. Append-only; old months are dropped.';

create index index_audit_log_on_actor_id on core.audit_log (actor_id);
create index index_audit_log_on_target_user_id on core.audit_log (target_user_id);
create index index_audit_log_on_target_shop_id on core.audit_log (target_shop_id);
create index index_audit_log_on_created_at on core.audit_log (created_at);

create table core.audit_log_default partition of core.audit_log default;

create function core.forbid_audit_log_changes() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception using
        errcode = '42501',
        message = 'the audit log is append-only',
        hint = 'old months are removed by dropping their partition';
end
$$;
comment on function core.forbid_audit_log_changes() is
'Trigger: rows of core.audit_log are never updated or deleted.';

create trigger audit_log_is_append_only
before update or delete on core.audit_log
for each row execute function core.forbid_audit_log_changes();

-- Monthly partitions, created ahead of time by ops.create_monthly_partitions (scheduled by the
-- maintenance issue); this migration creates the months around its own date.
create function ops.create_monthly_partitions(
    p_table regclass, p_months_back integer, p_months_ahead integer
) returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_schema text;
    v_name text;
    v_key text;
    v_default regclass;
    v_partition text;
    v_from timestamptz;
    v_to timestamptz;
    v_waiting bigint;
    v_created integer := 0;
begin
    select n.nspname, c.relname into v_schema, v_name
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where c.oid = p_table;
    v_key := (regexp_match(pg_get_partkeydef(p_table), '^RANGE \((\w+)\)$'))[1];
    select i.inhrelid::regclass into v_default
    from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
    where i.inhparent = p_table and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    for i in -p_months_back .. p_months_ahead loop
        -- months are UTC months whatever the session's time zone, so every run draws the same bounds
        v_from := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i)) at time zone 'UTC';
        v_to := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i + 1)) at time zone 'UTC';
        v_partition := format('%s_%s', v_name, to_char(v_from at time zone 'UTC', 'YYYY_MM'));
        continue when to_regclass(format('%I.%I', v_schema, v_partition)) is not null;
        v_waiting := 0;
        if v_default is not null then
            execute format('select count(*) from %s where %I >= $1 and %I < $2', v_default, v_key, v_key)
            into v_waiting using v_from, v_to;
        end if;
        if v_waiting = 0 then
            execute format('create table %I.%I partition of %s for values from (%L) to (%L)',
                           v_schema, v_partition, p_table, v_from, v_to);
        else
            -- rows of this month wait in the default partition (maintenance ran late): move them
            -- into the new month, then attach it. Moving is not a change of data, so the table's
            -- own triggers (the audit log's append-only rule) are bypassed for it: superuser only.
            execute format('create table %I.%I (like %s including defaults including constraints)',
                           v_schema, v_partition, p_table);
            set local session_replication_role = replica;
            execute format('with moved as (delete from %s where %I >= $1 and %I < $2 returning *) '
                           'insert into %I.%I select * from moved', v_default, v_key, v_key, v_schema, v_partition)
            using v_from, v_to;
            set local session_replication_role = origin;
            execute format('alter table %s attach partition %I.%I for values from (%L) to (%L)',
                           p_table, v_schema, v_partition, v_from, v_to);
        end if;
        v_created := v_created + 1;
    end loop;
    return v_created;
end
$$;
comment on function ops.create_monthly_partitions(regclass, integer, integer) is
'Create the missing monthly (UTC) partitions of a table partitioned by a timestamptz range, moving rows '
'of those months out of the default partition; returns how many were created.';

select ops.create_monthly_partitions('core.audit_log', 1, 3);
