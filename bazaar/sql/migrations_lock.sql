-- The migration lock: one migrator at a time (held by the session for the whole run).
select pg_advisory_lock(%(key)s)
