create or replace function api.categories()
returns table (id bigint, parent_id bigint, slug text, name text, kind text, depth integer)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select c.id, c.parent_id, c.slug, c.name, c.kind::text, cardinality(c.path) - 1
    from core.categories as c
    order by c.path
$$;
comment on function api.categories() is
'The category tree, parents before children (depth 0 = root). No token.';

create or replace function api.category_attributes(p_category_id bigint)
returns table (
    name text, label text, value_type text, required boolean, min_value numeric, max_value numeric,
    max_length integer, allowed_values text[]
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_category core.categories;
begin
    select c.* into v_category from core.categories as c where c.id = p_category_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no category %s', p_category_id);
    end if;
    return query
    select d.name, d.label, d.value_type, d.required, d.min_value, d.max_value, d.max_length, d.allowed_values
    from core.attribute_definitions as d
    where d.kind = v_category.kind and (d.category_id is null or d.category_id = any(v_category.path))
    order by d.required desc, d.name;
end
$$;
comment on function api.category_attributes(bigint) is
'The attributes a listing in this category takes (its kind''s and its categories''), for building forms. '
'No token. P0002 unknown category.';

create or replace function api.vehicle_models(p_make text default null)
returns table (make_id bigint, make text, model_id bigint, model text, generations jsonb)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform core.check_length(p_make, 'the make', 100);
    return query
    select mk.id, mk.name, m.id, m.name,
        coalesce((select jsonb_agg(jsonb_build_object('name', g.name, 'year_from', g.year_from, 'year_to', g.year_to)
                                   order by g.year_from)
                  from core.vehicle_generations as g where g.model_id = m.id), '[]')
    from core.vehicle_makes as mk join core.vehicle_models as m on m.make_id = mk.id
    where p_make is null or lower(mk.name) = lower(p_make)
    order by mk.name, m.name;
end
$$;
comment on function api.vehicle_models(text) is
'The vehicle catalog: makes, models and their generations with years (one make, or all). No token. '
'22023 a make over 100 characters.';

create or replace function api.places(p_kind text default null, p_region text default null)
returns table (region text, city text, listings bigint, refreshed_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_kind is not null and not p_kind = any(enum_range(null::core.listing_kind)::text[]) then
        perform core.raise_invalid(format('unknown kind %s', core.quoted(p_kind)), 'car, part or service');
    end if;
    perform core.check_length(p_region, 'the region', 80);
    -- the regions (city null), or the cities of one region; the most listings first
    return query
    select p.region, case when p_region is null then null else p.city end, sum(p.listings)::bigint,
        max(p.refreshed_at)
    from core.place_counts as p
    where (p_kind is null or p.kind::text = p_kind) and (p_region is null or lower(p.region) = lower(p_region))
    group by p.region, case when p_region is null then null else p.city end
    order by 3 desc, 1, 2;
end
$$;
comment on function api.places(text, text) is
'The regions with listings on sale (or the cities of P_REGION), with how many, of one kind or all, the '
'most first; the exact names the region and city filters of api.search take. From a rollup refreshed '
'every 10 minutes (refreshed_at says when). No token. 22023 unknown kind, region over 80 characters.';
