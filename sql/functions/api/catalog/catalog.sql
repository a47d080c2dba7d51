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
