create or replace function core.audit(
    p_actor_id bigint,
    p_action text,
    p_target_user_id bigint default null,
    p_target_shop_id bigint default null,
    p_reason text default null,
    p_details jsonb default '{}'
) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id bigint;
begin
    insert into core.audit_log (actor_id, action, target_user_id, target_shop_id, reason, details)
    values (p_actor_id, p_action, p_target_user_id, p_target_shop_id, p_reason, coalesce(p_details, '{}'))
    returning id into v_id;
    -- One server log line per staff action, carrying the call's request id (application_name):
    -- what was done and the row, never to whom or why (those stay in the row).
    raise log using message = format('audit: %s (audit_log %s)', p_action, v_id);
end
$$;
comment on function core.audit(bigint, text, bigint, bigint, text, jsonb) is
'Append one staff action to core.audit_log, in the same transaction as the action, and log one '
'line (the action and the row id) with the call''s request id.';

create or replace function core.forbid_audit_log_changes() returns trigger
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
