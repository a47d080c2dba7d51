-- The migration runner's own bookkeeping. Created before the first migration exists, so the
-- connecting (admin) role owns it at first; V0001 hands the schema and table to bazaar_owner.
create schema if not exists ops;

create table if not exists ops.schema_migrations (
    script text primary key,
    kind text not null,
    version integer unique,
    checksum text not null,
    applied_at timestamptz not null default now(),
    applied_by text not null default session_user,
    execution_ms integer not null,
    constraint check_schema_migrations_kind check (kind in ('versioned', 'repeatable')),
    constraint check_schema_migrations_version check ((kind = 'versioned') = (version is not null))
);

comment on table ops.schema_migrations is
'One row per applied script: versioned migrations (run once) and repeatable function/view files '
'(re-applied when their checksum changes). Written only by `bazaar db migrate`.';
