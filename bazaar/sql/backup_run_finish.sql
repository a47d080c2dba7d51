-- A run's outcome: what it made (the pgBackRest label, sizes) or why it failed.
update ops.backup_runs
set
    finished_at = clock_timestamp(),
    succeeded = %(ok)s,
    label = coalesce(%(label)s, label),
    database_bytes = coalesce(%(database_bytes)s, database_bytes),
    repository_bytes = coalesce(%(repository_bytes)s, repository_bytes),
    detail = %(detail)s,
    error = %(error)s
where id = %(id)s;
