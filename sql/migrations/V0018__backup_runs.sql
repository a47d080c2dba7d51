-- What the backups did: every backup, verification, restore and staging copy records its outcome,
-- size and duration here (docs/adr/0012-backups.md), so `bazaar backup info` shows the last good
-- ones and the monitoring can alert when a good backup or a good restore drill is too old.

create table ops.backup_runs (
    id bigint generated always as identity,
    kind text not null,
    backup_type text,
    label text,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    succeeded boolean,
    database_bytes bigint,
    repository_bytes bigint,
    detail jsonb not null default '{}',
    error text,
    constraint pk_backup_runs primary key (id),
    constraint check_backup_runs_kind check (kind in ('backup', 'verify', 'restore', 'stage')),
    constraint check_backup_runs_backup_type check (backup_type in ('full', 'diff', 'incr')),
    constraint check_backup_runs_label check (label ~ '^[0-9A-Z_-]+$' and char_length(label) <= 64),
    constraint check_backup_runs_finished check ((finished_at is null) = (succeeded is null)),
    constraint check_backup_runs_sizes check (database_bytes >= 0 and repository_bytes >= 0),
    constraint check_backup_runs_error_length check (char_length(error) <= 2000),
    constraint check_backup_runs_detail_size check (octet_length(detail::text) <= 1048576)
);
comment on table ops.backup_runs is
'Every backup (full, diff, incr), verification by restore, restore and staging copy: when, the '
'pgBackRest label, sizes, outcome (NULL while running), details (per-table digests of a verified '
'backup) and the error of a failure.';
create index index_backup_runs_on_kind_finished_at on ops.backup_runs (kind, finished_at desc)
where succeeded;
