create or replace function core.setting(p_key text) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_value jsonb;
begin
    select s.value into v_value from core.settings as s where s.key = p_key;
    if not found then
        raise exception using
            errcode = 'P0002',
            message = format('no setting named %s', p_key);
    end if;
    return v_value;
end
$$;
comment on function core.setting(text) is 'The JSON value of a core.settings key; raises P0002 when unknown.';

create or replace function core.setting_int(p_key text) returns integer
language sql
stable
set search_path = pg_catalog, pg_temp
as $$ select (core.setting(p_key) #>> '{}')::integer $$;
comment on function core.setting_int(text) is 'A core.settings value read as an integer.';

create or replace function core.setting_interval(p_key text) returns interval
language sql
stable
set search_path = pg_catalog, pg_temp
as $$ select (core.setting(p_key) #>> '{}')::interval $$;
comment on function core.setting_interval(text) is 'A core.settings value read as an interval.';
