insert into ops.schema_migrations (script, kind, version, checksum, execution_ms)
values (%(script)s, %(kind)s, %(version)s, %(checksum)s, %(execution_ms)s)
on conflict (script) do update
set checksum = excluded.checksum,
    applied_at = now(),
    applied_by = session_user,
    execution_ms = excluded.execution_ms
