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
    v_filters jsonb := coalesce(p_filters, '{}');
    v_search core.saved_searches;
    v_key text;
begin
    v_search.name := core.clean_name(p_name, 'the name', 1, 80);
    -- the same rules as api.search: what is saved searches exactly as typed, and can never fail
    -- (or stop an approval) when it is matched later
    v_search.query := core.search_text(p_query);
    if jsonb_typeof(v_filters) <> 'object' then
        perform core.raise_invalid('filters must be a JSON object');
    end if;
    for v_key in select jsonb_object_keys(v_filters) loop
        if v_key not in ('kind', 'category_id', 'brand', 'make_id', 'model_id', 'year', 'price_min', 'price_max',
                         'currency', 'region', 'city', 'condition', 'seller_type', 'has_photos', 'tag') then
            perform core.raise_invalid(format('unknown filter %s', core.quoted(v_key)),
                                       'filters are those of api.search without p_');
        end if;
    end loop;
    if core.json_string(v_filters -> 'kind', 'the kind filter') is not null then
        v_search.kind := core.listing_kind(core.json_string(v_filters -> 'kind', 'the kind filter'));
    end if;
    v_search.category_id := core.json_whole_number(v_filters -> 'category_id', 'the category_id filter');
    v_search.make_id := core.json_whole_number(v_filters -> 'make_id', 'the make_id filter');
    v_search.model_id := core.json_whole_number(v_filters -> 'model_id', 'the model_id filter');
    v_search.year := core.json_whole_number(v_filters -> 'year', 'the year filter', 1950, 2100);
    v_search.price_min := core.json_whole_number(v_filters -> 'price_min', 'the price_min filter', 0);
    v_search.price_max := core.json_whole_number(v_filters -> 'price_max', 'the price_max filter', 0);
    v_search.currency := coalesce(core.json_string(v_filters -> 'currency', 'the currency filter'), 'RUB');
    v_search.brand := nullif(btrim(core.json_string(v_filters -> 'brand', 'the brand filter')), '');
    v_search.region := nullif(btrim(core.json_string(v_filters -> 'region', 'the region filter')), '');
    v_search.city := nullif(btrim(core.json_string(v_filters -> 'city', 'the city filter')), '');
    v_search.condition := core.json_string(v_filters -> 'condition', 'the condition filter');
    v_search.seller_type := core.json_string(v_filters -> 'seller_type', 'the seller_type filter');
    v_search.has_photos := core.json_boolean(v_filters -> 'has_photos', 'the has_photos filter');
    if core.json_string(v_filters -> 'tag', 'the tag filter') is not null then
        v_search.tag := core.normalize_tag(v_filters ->> 'tag');  -- stored normalised, as search compares it
    end if;
    perform core.check_search_filters(
        v_search.kind::text, v_search.category_id, v_search.price_min, v_search.price_max, v_search.currency,
        v_search.condition, v_search.seller_type, v_search.year, v_search.brand, v_search.region, v_search.city);
    if v_search.make_id is not null and not exists (select from core.vehicle_makes as m where m.id = v_search.make_id) then
        perform core.raise_invalid(format('unknown vehicle make %s', v_search.make_id));
    end if;
    if v_search.model_id is not null
        and not exists (select from core.vehicle_models as m where m.id = v_search.model_id) then
        perform core.raise_invalid(format('unknown vehicle model %s', v_search.model_id));
    end if;
    if num_nonnulls(
        v_search.query, v_search.kind, v_search.category_id, v_search.brand, v_search.make_id, v_search.model_id,
        v_search.year, v_search.price_min, v_search.price_max, v_search.region, v_search.city, v_search.condition,
        v_search.seller_type, v_search.has_photos, v_search.tag
    ) = 0 then
        perform core.raise_invalid('a saved search needs a text or at least one filter');
    end if;
    -- one user's saved searches change one at a time, so the cap holds under concurrency
    perform pg_advisory_xact_lock(hashtextextended('saved-searches:' || v_user.id, 0));
    if (select count(*) from core.saved_searches as s where s.user_id = v_user.id)
        >= core.setting_int('saved_search_limit') then
        raise exception using errcode = '55000',
            message = format('at most %s saved searches', core.setting_int('saved_search_limit')),
            detail = '{"reason": "saved_search_limit"}';
    end if;
    insert into core.saved_searches (
        user_id, name, query, kind, category_id, brand, make_id, model_id, year, price_min, price_max, currency,
        region, city, condition, seller_type, has_photos, tag
    ) values (
        v_user.id, v_search.name, v_search.query, v_search.kind, v_search.category_id, v_search.brand,
        v_search.make_id, v_search.model_id, v_search.year, v_search.price_min, v_search.price_max,
        v_search.currency, v_search.region, v_search.city, v_search.condition, v_search.seller_type,
        v_search.has_photos, v_search.tag
    )
    returning id into v_search.id;
    return v_search.id;
end
$$;
comment on function api.save_search(text, text, text, jsonb) is
'Save a search: a text (as api.search reads it: at most 200 characters) and/or filters as in api.search '
'(kind, category_id, brand, make_id, model_id, year, price_min, price_max, currency, region, city, '
'condition, seller_type, has_photos, tag), each of its JSON type (whole numbers may be written 2015, '
'2015.0 or "2015"). A category watch is just {"category_id": …}. Each newly published match notifies '
'you once, within a minute. 28000/42501; 22023 bad text or filter; 55000 too many.';

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
    select s.id, s.name, s.query, core.saved_search_filters(s), s.created_at from core.saved_searches as s
    where s.user_id = v_user.id order by s.id;
end
$$;
comment on function api.saved_searches(text) is
'Your saved searches, the filters as the JSON object api.save_search takes. 28000/42501.';

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
