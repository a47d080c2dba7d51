-- bazaar:as-admin
-- What the application roles may do beyond calling api functions, and what their sessions leave
-- in the server log (ADR 0011). Runs as the admin: role settings for log_* parameters, and the
-- built-in functions' privileges, are a superuser's to change.

-- Timeouts: one caller cannot hold a pooled server connection (PgBouncer has 20) for long.
alter role bazaar_app set statement_timeout = '5s';
alter role bazaar_app set idle_in_transaction_session_timeout = '15s';
alter role bazaar_app set temp_file_limit = '1GB';
alter role bazaar_worker set statement_timeout = '30s';
alter role bazaar_worker set idle_in_transaction_session_timeout = '60s';
alter role bazaar_analyst set statement_timeout = '5min';
alter role bazaar_analyst set idle_in_transaction_session_timeout = '60s';
alter role bazaar_monitor set statement_timeout = '10s';

-- The server log never holds what an application or worker session sent: passwords, codes,
-- tokens and personal data travel as arguments (in statement text or as bind parameters), and
-- error messages about a bad argument quote it. Their slow statements are for metrics
-- (pg_stat_statements stores them normalised, without values), not for the log.
do $logging$
declare
    role_name text;
begin
    foreach role_name in array array['bazaar_app', 'bazaar_worker'] loop
        execute format('alter role %I set log_statement = %L', role_name, 'none');
        execute format('alter role %I set log_min_duration_statement = -1', role_name);
        execute format('alter role %I set log_min_duration_sample = -1', role_name);
        execute format('alter role %I set log_transaction_sample_rate = 0', role_name);
        execute format('alter role %I set log_min_error_statement = %L', role_name, 'panic');
        execute format('alter role %I set log_min_messages = %L', role_name, 'fatal');
        execute format('alter role %I set log_parameter_max_length = 0', role_name);
        execute format('alter role %I set log_parameter_max_length_on_error = 0', role_name);
    end loop;
end
$logging$;

-- Built-in functions with effects beyond the caller's own session are not for everyone:
-- large objects (storage outside any table), advisory locks (the api's own serialisation points:
-- a session lock on a user's chat key would stop that user posting), pg_notify() (wakes the
-- delivery workers; the NOTIFY statement has no privilege to revoke), signalling other backends,
-- and writing arbitrary WAL. They hold in this database: pg_hba keeps the marketplace's roles out
-- of the others (patroni/patroni.yml).
revoke execute on function
pg_catalog.lo_create(oid),
pg_catalog.lo_creat(integer),
pg_catalog.lo_open(oid, integer),
pg_catalog.lo_close(integer),
pg_catalog.loread(integer, integer),
pg_catalog.lowrite(integer, bytea),
pg_catalog.lo_lseek(integer, integer, integer),
pg_catalog.lo_lseek64(integer, bigint, integer),
pg_catalog.lo_tell(integer),
pg_catalog.lo_tell64(integer),
pg_catalog.lo_truncate(integer, integer),
pg_catalog.lo_truncate64(integer, bigint),
pg_catalog.lo_unlink(oid),
pg_catalog.lo_from_bytea(oid, bytea),
pg_catalog.lo_get(oid),
pg_catalog.lo_get(oid, bigint, integer),
pg_catalog.lo_put(oid, bigint, bytea),
pg_catalog.pg_advisory_lock(bigint),
pg_catalog.pg_advisory_lock_shared(bigint),
pg_catalog.pg_try_advisory_lock(bigint),
pg_catalog.pg_try_advisory_lock_shared(bigint),
pg_catalog.pg_advisory_unlock(bigint),
pg_catalog.pg_advisory_unlock_shared(bigint),
pg_catalog.pg_advisory_lock(integer, integer),
pg_catalog.pg_advisory_lock_shared(integer, integer),
pg_catalog.pg_try_advisory_lock(integer, integer),
pg_catalog.pg_try_advisory_lock_shared(integer, integer),
pg_catalog.pg_advisory_unlock(integer, integer),
pg_catalog.pg_advisory_unlock_shared(integer, integer),
pg_catalog.pg_advisory_unlock_all(),
pg_catalog.pg_advisory_xact_lock(bigint),
pg_catalog.pg_advisory_xact_lock_shared(bigint),
pg_catalog.pg_try_advisory_xact_lock(bigint),
pg_catalog.pg_try_advisory_xact_lock_shared(bigint),
pg_catalog.pg_advisory_xact_lock(integer, integer),
pg_catalog.pg_advisory_xact_lock_shared(integer, integer),
pg_catalog.pg_try_advisory_xact_lock(integer, integer),
pg_catalog.pg_try_advisory_xact_lock_shared(integer, integer),
pg_catalog.pg_notify(text, text),
pg_catalog.pg_terminate_backend(integer, bigint),
pg_catalog.pg_cancel_backend(integer),
pg_catalog.pg_logical_emit_message(boolean, text, text),
pg_catalog.pg_logical_emit_message(boolean, text, bytea)
from public;

-- what the api itself uses, as the owner its functions run as
grant execute on function pg_catalog.pg_advisory_xact_lock(bigint), pg_catalog.pg_notify(text, text)
to bazaar_owner;

-- Temporary tables are storage too: the api needs none.
do $database$
begin
    execute format('revoke temporary on database %I from bazaar_app, bazaar_worker', current_database());
end
$database$;

-- Saved-search matching runs beside approvals, every minute, and sign-in records past their windows
-- are purged hourly, on the leader (V0006's pattern).
do $jobs$
begin
    if current_setting('cron.database_name', true) is distinct from current_database() then
        raise notice 'pg_cron is not set up for database %: matching and purging not scheduled', current_database();
        return;
    end if;
    perform cron.schedule('bazaar-match-saved-searches', '* * * * *', 'call ops.run_saved_search_matching()');
    perform cron.schedule('bazaar-purge-sign-in-records', '41 * * * *', 'select ops.purge_sign_in_records()');
end
$jobs$;
