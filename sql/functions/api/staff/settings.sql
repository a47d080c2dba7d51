create or replace function api.set_setting(p_token text, p_key text, p_value jsonb) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin core.users := core.authenticate(p_token);
    v_old jsonb;
begin
    perform core.require_platform_role(v_admin, 'admin');
    perform core.check_setting(p_key, p_value);
    select s.value into v_old from core.settings as s where s.key = p_key for update;
    update core.settings as s set value = p_value, updated_at = now() where s.key = p_key;
    perform core.audit(v_admin.id, 'set_setting', null, null, null,
                       jsonb_build_object('key', p_key, 'from', v_old, 'to', p_value));
end
$$;
comment on function api.set_setting(text, text, jsonb) is
'Change a marketplace setting (admins; audited). Each setting has a declared type and range '
'(core.settings: value_type, min_value, max_value, allowed_values). 28000/42501; 42501 not an admin; '
'P0002 unknown key; 22023 wrong type or out of range, saying what it takes.';

create or replace function api.settings(p_token text)
returns table (
    key text, value jsonb, value_type text, min_value text, max_value text, allowed_values text[],
    description text, updated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin core.users := core.authenticate(p_token);
begin
    perform core.require_platform_role(v_admin, 'admin');
    return query
    select s.key, s.value, s.value_type, s.min_value, s.max_value, s.allowed_values, s.description, s.updated_at
    from core.settings as s order by s.key;
end
$$;
comment on function api.settings(text) is
'Every marketplace setting with its value, type, range and meaning (admins). 28000/42501; 42501 not an '
'admin.';
