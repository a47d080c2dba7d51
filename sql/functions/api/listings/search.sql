create or replace function api.search(
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
    p_sort text default null,
    p_cursor text default null,
    p_limit integer default 20,
    p_tag text default null
) returns table (
    listing_id bigint,
    kind text,
    title text,
    category_id bigint,
    brand text,
    price_amount bigint,
    currency text,
    region text,
    city text,
    sort_date timestamptz,
    promoted boolean,
    photo_count integer,
    seller_type text,
    rank real,
    next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- relevance cursors carry a real as text: print it exactly whatever the client session says
set extra_float_digits = 3
-- a frequent word within a big region ANDs bitmaps of 150,000+ rows each: at the default 4MB they
-- turn lossy and every row of their pages is checked again (scale 1: 457 ms -> 259 ms; ADR 0022)
set work_mem = '16MB'
as $$
declare
    v_query text := core.search_text(p_query);
    v_tsquery tsquery;
    v_part_number text;
    v_mode text;
    v_sort text;
    v_where text;
    v_rank text;
    v_key text;
    v_after text;
    v_cursor jsonb;
    v_cursor_promoted boolean;
    v_k1 text;
    v_k2 text;
    v_select text;
    v_sql text;
    v_tag text;
begin
    perform core.check_search_filters(p_kind, p_category_id, p_price_min, p_price_max, p_currency,
                                      p_condition, p_seller_type, p_year, p_brand, p_region, p_city);
    if p_limit is null or p_limit not between 1 and core.setting_int('search_page_max') then
        perform core.raise_invalid(format('the page size must be between 1 and %s', core.setting_int('search_page_max')));
    end if;
    if p_tag is not null then
        v_tag := core.normalize_tag(p_tag);
    end if;
    v_sort := coalesce(p_sort, case when v_query is null then 'newest' else 'relevance' end);
    if v_sort not in ('newest', 'price_asc', 'price_desc', 'relevance') then
        perform core.raise_invalid(format('unknown sort %s', core.quoted(p_sort)),
                                   'sorts are newest, price_asc, price_desc, relevance');
    end if;
    if v_sort = 'relevance' and v_query is null then
        perform core.raise_invalid('sorting by relevance needs a search text');
    end if;
    if v_query is not null then
        v_tsquery := websearch_to_tsquery('russian', v_query);
        v_part_number := core.normalize_part_number(v_query);
    end if;
    select w.mode, w.condition into v_mode, v_where
    from core.search_where(v_query, v_tsquery, v_part_number, p_kind, core.category_subtree(p_category_id), p_brand,
                           p_make_id, p_model_id, p_year, p_price_min, p_price_max, p_currency, p_region, p_city,
                           p_condition, p_seller_type, p_has_photos, p_seller_id, p_shop_id, v_tag) as w;
    if v_sort in ('price_asc', 'price_desc') and p_price_min is null and p_price_max is null then
        v_where := v_where || ' and l.currency = $12';  -- amounts compare only within one currency
    end if;
    v_rank := case v_mode
        when 'text' then '(ts_rank(l.search_vector, $1) + case when l.part_number = $3 then 1 else 0 end)::real'
        when 'fuzzy' then 'ext.word_similarity($2, lower(l.title))'
        else '0::real' end;

    -- The cursor: which sort it belongs to, whether it is still among the promoted listings, and
    -- the sort key of the last row seen. Opaque to callers (base64 of JSON).
    if char_length(p_cursor) > 500 then
        perform core.raise_invalid('the cursor is not one this search returned');
    end if;
    if p_cursor is not null then
        begin
            v_cursor := convert_from(decode(translate(p_cursor, '-_', '+/'), 'base64'), 'UTF8')::jsonb;
            v_cursor_promoted := (v_cursor ->> 'p')::boolean;
            v_k1 := v_cursor -> 'k' ->> 0;
            v_k2 := v_cursor -> 'k' ->> 1;
        exception when others then
            perform core.raise_invalid('the cursor is not one this search returned');
        end;
        if v_cursor ->> 's' is distinct from v_sort or v_k1 is null or v_k2 is null then
            perform core.raise_invalid('the cursor belongs to another sort order', 'start again without a cursor');
        end if;
        begin
            -- the keys must be of the sort's types, or the page query fails later with a raw error
            perform v_k2::bigint, case v_sort when 'newest' then v_k1::timestamptz::text
                                              when 'relevance' then v_k1::real::text
                                              else v_k1::bigint::text end;
        exception when others then
            perform core.raise_invalid('the cursor is not one this search returned');
        end;
    end if;

    -- Keyset pagination: the key and the "after the cursor" condition of each sort.
    case v_sort
        when 'newest' then
            v_key := 'l.sort_date desc, l.id desc';
            v_after := '(l.sort_date, l.id) < ($20::timestamptz, $21::bigint)';
        when 'relevance' then
            v_key := v_rank || ' desc, l.id desc';
            v_after := format('(%s, l.id) < ($20::real, $21::bigint)', v_rank);
        when 'price_asc' then
            v_key := 'l.price_amount, l.id';
            v_after := '(l.price_amount, l.id) > ($20::bigint, $21::bigint)';
        else
            v_key := 'l.price_amount desc, l.id desc';
            v_after := '(l.price_amount, l.id) < ($20::bigint, $21::bigint)';
    end case;

    v_select := 'select l.id as listing_id, l.kind::text as kind, l.title, l.category_id, l.brand, '
        'l.price_amount, l.currency, l.region, l.city, l.sort_date, {promoted} as promoted, l.photo_count, '
        'case when l.shop_id is null then ''private'' else ''shop'' end as seller_type, '
        || v_rank || ' as rank from core.listings as l where ' || v_where;

    if v_sort in ('newest', 'relevance') then
        -- Promoted listings first: two parts, each in key order and limited, so an index can serve
        -- the regular part; the page is the first rows of the two, promoted ones first.
        v_sql := '(select * from (' || replace(v_select, '{promoted}', 'false')
            || ' and not coalesce(l.promoted_until > now(), false) '
            || case when v_cursor_promoted is false then 'and ' || v_after else '' end
            || ' order by ' || v_key || ' limit $22) as regular_part)';
        if v_cursor_promoted is distinct from false then
            v_sql := '(select * from (' || replace(v_select, '{promoted}', 'true')
                || ' and l.promoted_until > now() '
                || case when v_cursor_promoted then 'and ' || v_after else '' end
                || ' order by ' || v_key || ' limit $22) as promoted_part) union all ' || v_sql;
        end if;
        v_sql := 'select * from (' || v_sql || ') as page order by promoted desc, '
            || case v_sort when 'newest' then 'sort_date desc' else 'rank desc' end
            || ', listing_id desc limit $22';
    else
        v_sql := replace(v_select, '{promoted}', 'false')
            || case when p_cursor is not null then ' and ' || v_after else '' end
            || ' order by ' || v_key || ' limit $22';
    end if;

    return query
    select r.*, translate(encode(convert_to(jsonb_build_object(
        's', v_sort,
        'p', r.promoted,
        'k', jsonb_build_array(
            case v_sort when 'newest' then to_jsonb(r.sort_date)
                        when 'relevance' then to_jsonb(r.rank::text)
                        else to_jsonb(r.price_amount) end,
            r.listing_id)
    )::text, 'UTF8'), 'base64'), E'+/\n', '-_')
    from core.search_page(v_sql, v_tsquery, lower(v_query), v_part_number, p_kind,
                          core.category_subtree(p_category_id), p_brand,
                          p_make_id, p_model_id, p_year, p_price_min, p_price_max, p_currency, p_region, p_city,
                          p_condition, p_seller_type, p_has_photos, p_seller_id, p_shop_id, v_k1, v_k2, p_limit,
                          v_tag) as r;
end
$$;
comment on function api.search(
    text, text, bigint, text, bigint, bigint, integer, bigint, bigint, text, text, text, text, text, boolean,
    bigint, bigint, text, text, integer, text
) is
'Public search of published listings; no token. Text in Russian or English (websearch syntax), an exact '
'part number, or a typo-tolerant match when nothing matches exactly. Filters: kind, category (with '
'subcategories), brand, make/model/year (cars by their own, parts by fitment), price range (in '
'p_currency), region, city, condition, seller type (shop|private), has photos, seller, shop, tag (any '
'spelling of it). Sorts: newest (default without text), relevance (default with text), price_asc, '
'price_desc (within p_currency); promoted listings first in newest and relevance. Keyset pages: pass the '
'last row''s next_cursor back. 22023 bad filter (a tag that is not one; brand over 60, region or city '
'over 80 characters), text over 200 characters, sort, page size or cursor.';
