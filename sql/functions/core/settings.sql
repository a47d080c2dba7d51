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

create or replace function core.check_setting(p_key text, p_value jsonb) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_setting core.settings;
    v_text text := p_value #>> '{}';
    v_interval interval;
begin
    select s.* into v_setting from core.settings as s where s.key = p_key;
    if not found then
        raise exception using errcode = 'P0002', message = format('no setting named %s', core.quoted(p_key));
    end if;
    case v_setting.value_type
        when 'integer' then
            if jsonb_typeof(p_value) is distinct from 'number' or v_text !~ '^-?[0-9]{1,18}$'
                or v_text::bigint not between v_setting.min_value::bigint and v_setting.max_value::bigint then
                perform core.raise_invalid(
                    format('setting %s takes a whole number from %s to %s', p_key, v_setting.min_value,
                           v_setting.max_value));
            end if;
        when 'interval' then
            begin
                v_interval := case when jsonb_typeof(p_value) = 'string' and char_length(v_text) <= 40
                                   then v_text::interval end;
            exception when invalid_datetime_format or datetime_field_overflow or interval_field_overflow then
                v_interval := null;
            end;
            if v_interval is null
                or v_interval not between v_setting.min_value::interval and v_setting.max_value::interval then
                perform core.raise_invalid(
                    format('setting %s takes an interval from %s to %s, such as "%s"', p_key, v_setting.min_value,
                           v_setting.max_value, v_setting.value #>> '{}'));
            end if;
        else
            if jsonb_typeof(p_value) is distinct from 'array'
                or not p_value <@ to_jsonb(v_setting.allowed_values) then
                perform core.raise_invalid(
                    format('setting %s takes a list of %s', p_key, array_to_string(v_setting.allowed_values, ', ')));
            end if;
    end case;
    return p_value;
end
$$;
comment on function core.check_setting(text, jsonb) is
'P_VALUE when it is of the setting''s declared type and within its range (integer min..max, interval '
'min..max, list of allowed values); P0002 unknown setting; 22023 otherwise, saying what it takes.';
