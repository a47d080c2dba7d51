-- bazaar:as-admin
-- A request id followed end to end (docs/adr/0016-logs-and-request-ids.md). A client names its
-- connection (or, behind PgBouncer, each request: SET application_name) '<client>/<request id>';
-- the id then stands in every server log line of the call (jsonlog's application_name), and in
-- the audit log rows and the notifications the call writes, by these columns' default.
-- Added without a default first, then given one: existing rows stay null instead of taking the
-- migration's own id (a stable default added with the column would be stored for every row).
alter table core.audit_log add column request_id text;
alter table core.audit_log alter column request_id set default
substring(current_setting('application_name') from '/([A-Za-z0-9._-]{8,40})$');
alter table core.audit_log add constraint check_audit_log_request_id
check (request_id ~ '^[A-Za-z0-9._-]{8,40}$') not valid;
comment on column core.audit_log.request_id is
'The request id of the call that wrote the row: the part after the last "/" of its application_name.';
create index index_audit_log_on_request_id on core.audit_log (request_id) where request_id is not null;

alter table core.notifications add column request_id text;
alter table core.notifications alter column request_id set default
substring(current_setting('application_name') from '/([A-Za-z0-9._-]{8,40})$');
alter table core.notifications add constraint check_notifications_request_id
check (request_id ~ '^[A-Za-z0-9._-]{8,40}$') not valid;
comment on column core.notifications.request_id is
'The request id of the call that queued the notification (see core.audit_log.request_id).';

-- The application and worker roles' sessions now log LOG-level lines (the audit trail's one line
-- per staff action, with the request id), still never an ERROR or WARNING (their messages quote
-- arguments) nor a statement (log_min_error_statement, log_min_duration_statement stay off: V0016).
-- auto_explain (preloaded on every node) would print a slow statement's text, literals and all:
-- off for them too, as log_min_duration_statement is.
do $logging$
declare
    role_name text;
begin
    foreach role_name in array array['bazaar_app', 'bazaar_worker'] loop
        execute format('alter role %I set log_min_messages = %L', role_name, 'log');
        execute format('alter role %I set auto_explain.log_min_duration = -1', role_name);
    end loop;
end
$logging$;
