create or replace function api.save_search(
    p_token text, p_name text, p_query text, p_filters jsonb default '{}'
)
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_name text := core.clean_name(p_name, 'the name', 1, 80);
    v_filters jsonb := coalesce(p_filters, '{}');
    v_key text;
    v_id bigint;
begin
    if jsonb_typeof(v_filters) <> 'object' then
        perform core.raise_invalid('filters must be a JSON object');
    end if;
    for v_key in select jsonb_object_keys(v_filters) loop
        if v_key not in ('kind', 'category_id', 'brand', 'make_id', 'model_id', 'year', 'price_min', 'price_max',
                         'currency', 'region', 'city', 'condition', 'seller_type', 'has_photos', 'tag') then
            perform core.raise_invalid(format('unknown filter "%s"', v_key));
        end if;
    end loop;
    if v_filters ? 'tag' then
        -- stored normalised, as the search compares it
        v_filters := jsonb_set(v_filters, '{tag}', to_jsonb(core.normalize_tag(v_filters ->> 'tag')));
    end if;
    if nullif(btrim(p_query), '') is null and v_filters = '{}' then
        perform core.raise_invalid('a saved search needs a text or at least one filter');
    end if;
    begin
        perform core.check_search_filters(
            v_filters ->> 'kind', (v_filters ->> 'category_id')::bigint, (v_filters ->> 'price_min')::bigint,
            (v_filters ->> 'price_max')::bigint, coalesce(v_filters ->> 'currency', 'RUB'),
            v_filters ->> 'condition', v_filters ->> 'seller_type', (v_filters ->> 'year')::integer);
        perform (v_filters ->> 'make_id')::bigint, (v_filters ->> 'model_id')::bigint,
            (v_filters ->> 'has_photos')::boolean;
    exception
        when invalid_text_representation or numeric_value_out_of_range then
            perform core.raise_invalid('a filter value has the wrong type');
    end;
    if (select count(*) from core.saved_searches as s where s.user_id = v_user.id)
        >= core.setting_int('saved_search_limit') then
        raise exception using errcode = '55000',
            message = format('at most %s saved searches', core.setting_int('saved_search_limit'));
    end if;
    insert into core.saved_searches (user_id, name, query, filters)
    values (v_user.id, v_name, nullif(btrim(p_query), ''), v_filters)
    returning id into v_id;
    return v_id;
end
$$;
comment on function api.save_search(text, text, text, jsonb) is
'Save a search (text and/or filters as in api.search: kind, category_id, brand, make_id, model_id, year, '
'price_min, price_max, currency, region, city, condition, seller_type, has_photos, tag). A category watch is '
'just {"category_id": …}. Each newly published match notifies you once. 28000/42501; 22023 bad filter; '
'55000 too many.';

create or replace function api.saved_searches(p_token text)
returns table (saved_search_id bigint, name text, query text, filters jsonb, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    return query
    select s.id, s.name, s.query, s.filters, s.created_at from core.saved_searches as s
    where s.user_id = v_user.id order by s.id;
end
$$;
comment on function api.saved_searches(text) is 'Your saved searches. 28000/42501.';

create or replace function api.delete_saved_search(p_token text, p_saved_search_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    delete from core.saved_searches as s where s.id = p_saved_search_id and s.user_id = v_user.id;
    if not found then
        raise exception using errcode = 'P0002', message = format('you have no saved search %s', p_saved_search_id);
    end if;
end
$$;
comment on function api.delete_saved_search(text, bigint) is
'Delete one of your saved searches. 28000/42501; P0002.';

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
    select s.value into v_old from core.settings as s where s.key = p_key for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no setting named %s', p_key);
    end if;
    if p_value is null or jsonb_typeof(p_value) <> jsonb_typeof(v_old) then
        perform core.raise_invalid(format('setting %s takes a JSON %s', p_key, jsonb_typeof(v_old)));
    end if;
    if jsonb_typeof(v_old) = 'string' then
        begin
            perform (p_value #>> '{}')::interval;
        exception when others then
            perform core.raise_invalid(format('setting %s takes an interval such as "10 minutes"', p_key));
        end;
    end if;
    if p_key = 'chat_delete_roles' and exists (
        select from jsonb_array_elements_text(p_value) as r where r not in ('author', 'listing_owner', 'moderator')
    ) then
        perform core.raise_invalid('chat_delete_roles lists author, listing_owner and/or moderator');
    end if;
    update core.settings as s set value = p_value, updated_at = now() where s.key = p_key;
    perform core.audit(v_admin.id, 'set_setting', null, null, null,
                       jsonb_build_object('key', p_key, 'from', v_old, 'to', p_value));
end
$$;
comment on function api.set_setting(text, text, jsonb) is
'Change a marketplace setting (admins; audited): same JSON type as before, intervals checked. '
'28000/42501; 42501 not an admin; P0002 unknown key; 22023 wrong type or value.';
