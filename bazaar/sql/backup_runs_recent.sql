-- The latest runs, newest first, for `bazaar backup runs`.
select
    id,
    kind,
    backup_type,
    label,
    started_at,
    finished_at,
    succeeded,
    database_bytes,
    repository_bytes,
    error,
    round(extract(epoch from finished_at - started_at), 1) as seconds
from ops.backup_runs
order by id desc
limit %(limit)s;
