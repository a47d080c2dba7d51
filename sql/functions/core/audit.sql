create or replace function core.audit(
    p_actor_id bigint,
    p_action text,
    p_target_user_id bigint default null,
    p_target_shop_id bigint default null,
    p_reason text default null,
    p_details jsonb default '{}'
) returns void
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
    insert into core.audit_log (actor_id, action, target_user_id, target_shop_id, reason, details)
    values (p_actor_id, p_action, p_target_user_id, p_target_shop_id, p_reason, coalesce(p_details, '{}'))
$$;
comment on function core.audit(bigint, text, bigint, bigint, text, jsonb) is
'Append one staff action to core.audit_log, in the same transaction as the action.';

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
