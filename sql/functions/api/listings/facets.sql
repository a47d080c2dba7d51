create or replace function api.search_facets(
    p_query text default null,
    p_kind text default null,
    p_category_id bigint default null,
    p_brand text default null,
    p_make_id bigint default null,
    p_model_id bigint default null,
    p_year integer default null,
    p_price_min bigint default null,
    p_price_max bigint default null,
    p_currency text default 'RUB',
    p_region text default null,
    p_city text default null,
    p_condition text default null,
    p_seller_type text default null,
    p_has_photos boolean default null,
    p_seller_id bigint default null,
    p_shop_id bigint default null,
    p_tag text default null
) returns table (facet text, key text, label text, listings bigint)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- as api.search: the filters' bitmaps stay exact (ADR 0022)
set work_mem = '16MB'
as $$
declare
    v_query text := core.search_text(p_query);
    v_tsquery tsquery;
    v_part_number text;
    v_where text;
    v_tag text;
begin
    perform core.check_search_filters(p_kind, p_category_id, p_price_min, p_price_max, p_currency,
                                      p_condition, p_seller_type, p_year, p_brand, p_region, p_city);
    if p_tag is not null then
        v_tag := core.normalize_tag(p_tag);
    end if;
    if v_query is not null then
        v_tsquery := websearch_to_tsquery('russian', v_query);
        v_part_number := core.normalize_part_number(v_query);
    end if;
    v_where := (core.search_where(v_query, v_tsquery, v_part_number, p_kind, core.category_subtree(p_category_id),
                                  p_brand, p_make_id, p_model_id, p_year, p_price_min, p_price_max, p_currency,
                                  p_region, p_city, p_condition, p_seller_type, p_has_photos, p_seller_id, p_shop_id,
                                  v_tag)).condition;
    return query execute
        'with matched as (select l.category_id, l.brand from core.listings as l where ' || v_where || ') '
        'select ''category'', c.id::text, c.name, count(*) from matched as m '
        'join core.categories as c on c.id = m.category_id group by c.id, c.name '
        'union all '
        '(select ''brand'', lower(m.brand), min(m.brand), count(*) from matched as m where m.brand '
        'is not null '
        'group by lower(m.brand) order by count(*) desc, lower(m.brand) limit 30) '
        'order by 1, 4 desc, 2'
    using v_tsquery, lower(v_query), v_part_number, p_kind, core.category_subtree(p_category_id), p_brand,
        p_make_id, p_model_id, p_year,
        p_price_min, p_price_max, p_currency, p_region, p_city, p_condition, p_seller_type, p_has_photos,
        p_seller_id, p_shop_id, null::text, null::text, null::integer, v_tag;
end
$$;
comment on function api.search_facets(
    text, text, bigint, text, bigint, bigint, integer, bigint, bigint, text, text, text, text, text, boolean,
    bigint, bigint, text
) is
'Counts for the current search (same arguments as api.search, without sort and paging): listings per '
'category and per brand (top 30). No token. 22023 bad filter (as api.search), text over 200 characters.';
