-- The search filter, shared by api.search and api.search_facets so both count the same rows.
-- Filter values travel as parameters of EXECUTE … USING, always in this order:
--   $1 tsquery, $2 query text (lower case), $3 part number, $4 kind, $5 category ids (the
--   category and its subcategories), $6 brand,
--   $7 make, $8 model, $9 year, $10 price min, $11 price max, $12 currency, $13 region,
--   $14 city, $15 condition, $16 seller type, $17 has photos, $18 seller, $19 shop,
--   ($20, $21 the cursor's keys and $22 the page size, used by api.search only), $23 tag (normalised).
-- Only the conditions whose value is present are written into the query, so each search gets
-- a plan for exactly its filters (and the indexes that serve them).

create or replace function core.search_text(p_query text) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if char_length(btrim(p_query)) > 200 then
        perform core.raise_invalid(
            format('the search text must be at most 200 characters, not %s', char_length(btrim(p_query))));
    end if;
    -- websearch syntax reads "-word" as NOT word. Operators without an operand still cost the
    -- tsquery parser a stack slot each ("----…" overflowed it): a run of minuses is one minus, and
    -- a minus before nothing negates nothing. Control and invisible characters are spaces.
    return nullif(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        p_query,
        '[[:cntrl:]\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]', ' ', 'g'),
        '-[-[:space:]]*', '-', 'g'),
        '-(?![[:alnum:]"])', ' ', 'g'),
        '[[:space:]]+', ' ', 'g')), '');
end
$$;
comment on function core.search_text(text) is
'A search text as every search builds its tsquery from it: at most 200 characters (22023), operators '
'without an operand removed, control and invisible characters as spaces; NULL when nothing is left. '
'api.search, api.search_facets and api.save_search share it, so a saved text searches as typed.';

create or replace function core.search_condition(
    p_mode text,
    p_kind text, p_categories bigint[], p_brand text, p_make_id bigint, p_model_id bigint, p_year integer,
    p_price_min bigint, p_price_max bigint, p_region text, p_city text, p_condition text,
    p_seller_type text, p_has_photos boolean, p_seller_id bigint, p_shop_id bigint, p_tag text default null
) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_sql text := 'l.status = ''published'' and not l.seller_blocked';
    v_vehicle text;
    v_fit text;
begin
    if p_mode = 'text' then
        v_sql := v_sql || ' and (l.search_vector @@ $1 or l.part_number = $3)';
    elsif p_mode = 'fuzzy' then
        -- the query against the best-matching words of the title (word similarity, not the whole
        -- title's): "колотки" finds "Колодки тормозные передние"; the trigram index serves %>.
        -- pg_trgm.word_similarity_threshold is 0.5 for the database (V0033): one letter off in a
        -- word of seven scores 0.5 (pg_trgm's default, 0.6, misses it)
        v_sql := v_sql || ' and lower(l.title) operator(ext.%>) $2';
    end if;
    if p_kind is not null then v_sql := v_sql || ' and l.kind = $4::core.listing_kind'; end if;
    if cardinality(p_categories) = 1 then
        -- one category: equality, so the (category_id, sort_date, id) index can return rows in feed order
        v_sql := v_sql || ' and l.category_id = ($5)[1]';
    elsif p_categories is not null then
        v_sql := v_sql || ' and l.category_id = any($5)';
    end if;
    if p_brand is not null then v_sql := v_sql || ' and lower(l.brand) = lower($6)'; end if;
    if p_make_id is not null or p_model_id is not null or p_year is not null then
        -- cars by their own model and year; parts by their fitment
        v_vehicle := 'true';
        v_fit := 'true';
        if p_model_id is not null then
            v_vehicle := v_vehicle || ' and l.model_id = $8';
            v_fit := v_fit || ' and f.model_id = $8';
        elsif p_make_id is not null then
            v_vehicle := v_vehicle || ' and l.model_id in (select m.id from core.vehicle_models as m where m.make_id = $7)';
            v_fit := v_fit || ' and f.model_id in (select m.id from core.vehicle_models as m where m.make_id = $7)';
        end if;
        if p_year is not null then
            -- containment compares numbers as numbers and anything else as unequal: it cannot
            -- fail on whatever a row stores (a cast of the stored text could)
            v_vehicle := v_vehicle || ' and l.attributes @> jsonb_build_object(''year'', $9)';
            v_fit := v_fit || ' and $9 between f.year_from and f.year_to';
        end if;
        v_sql := v_sql || format(
            ' and ((l.kind = ''car'' and %s) or (l.kind = ''part'' and exists ('
            'select from core.part_fitments as f where f.listing_id = l.id and %s)))', v_vehicle, v_fit);
    end if;
    if p_price_min is not null or p_price_max is not null then
        v_sql := v_sql || ' and l.currency = $12';
    end if;
    if p_price_min is not null then v_sql := v_sql || ' and l.price_amount >= $10'; end if;
    if p_price_max is not null then v_sql := v_sql || ' and l.price_amount <= $11'; end if;
    if p_region is not null then v_sql := v_sql || ' and lower(l.region) = lower($13)'; end if;
    if p_city is not null then v_sql := v_sql || ' and lower(l.city) = lower($14)'; end if;
    if p_condition is not null then v_sql := v_sql || ' and l.attributes ->> ''condition'' = $15'; end if;
    if p_seller_type = 'shop' then v_sql := v_sql || ' and l.shop_id is not null'; end if;
    if p_seller_type = 'private' then v_sql := v_sql || ' and l.shop_id is null'; end if;
    if p_has_photos is true then v_sql := v_sql || ' and l.photo_count > 0'; end if;
    if p_has_photos is false then v_sql := v_sql || ' and l.photo_count = 0'; end if;
    if p_seller_id is not null then v_sql := v_sql || ' and l.seller_id = $18'; end if;
    if p_shop_id is not null then v_sql := v_sql || ' and l.shop_id = $19'; end if;
    if p_tag is not null then
        v_sql := v_sql || ' and l.id in (select lt.listing_id from core.listing_tags as lt '
            'join core.tags as t on t.id = lt.tag_id where t.name = $23)';
    end if;
    return v_sql;
end
$$;
comment on function core.search_condition(
    text,
    text,
    bigint[],
    text,
    bigint,
    bigint,
    integer,
    bigint,
    bigint,
    text,
    text,
    text,
    text,
    boolean,
    bigint,
    bigint,
    text
) is
'The WHERE condition of a listing search (mode none|text|fuzzy) for the filters that are present; '
'values are referenced as $1..$19 and $23 (see the file header), never spliced in.';

create or replace function core.check_search_filters(
    p_kind text, p_category_id bigint, p_price_min bigint, p_price_max bigint, p_currency text,
    p_condition text, p_seller_type text, p_year integer, p_brand text, p_region text, p_city text
) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_kind is not null then
        perform core.listing_kind(p_kind);
    end if;
    if p_category_id is not null and not exists (select from core.categories as c where c.id = p_category_id) then
        perform core.raise_invalid(format('unknown category %s', p_category_id));
    end if;
    if p_price_min < 0 or p_price_max < 0 or p_price_min > p_price_max then
        perform core.raise_invalid('the price range must be non-negative with min <= max');
    end if;
    if p_currency is null or p_currency !~ '^[A-Z]{3}$' then
        perform core.raise_invalid(format('%s is not a currency code', core.quoted(p_currency)),
                                   'use ISO 4217: RUB, USD, EUR');
    end if;
    if p_condition is not null and p_condition not in ('new', 'used') then
        perform core.raise_invalid(format('unknown condition %s', core.quoted(p_condition)), 'use new or used');
    end if;
    if p_seller_type is not null and p_seller_type not in ('shop', 'private') then
        perform core.raise_invalid(format('unknown seller type %s', core.quoted(p_seller_type)),
                                   'use shop or private');
    end if;
    if p_year is not null and p_year not between 1950 and 2100 then
        perform core.raise_invalid('the year must be between 1950 and 2100');
    end if;
    perform core.check_length(p_brand, 'the brand', 60);
    perform core.check_length(p_region, 'the region', 80);
    perform core.check_length(p_city, 'the city', 80);
end
$$;
comment on function core.check_search_filters(
    text, bigint, bigint, bigint, text, text, text, integer, text, text, text
) is
'22023 for a search filter that cannot match anything by construction (unknown kind, category, '
'condition or seller type; bad price range, currency or year; a brand over 60, region or city over 80 '
'characters). api.search, api.search_facets and api.save_search share it.';

create or replace function core.search_page(
    p_sql text,
    p_tsquery tsquery, p_query text, p_part_number text, p_kind text, p_categories bigint[], p_brand text,
    p_make_id bigint, p_model_id bigint, p_year integer, p_price_min bigint, p_price_max bigint,
    p_currency text, p_region text, p_city text, p_condition text, p_seller_type text, p_has_photos boolean,
    p_seller_id bigint, p_shop_id bigint, p_key1 text, p_key2 text, p_limit integer, p_tag text
) returns table (
    listing_id bigint, kind text, title text, category_id bigint, brand text, price_amount bigint,
    currency text, region text, city text, sort_date timestamptz, promoted boolean, photo_count integer,
    seller_type text, rank real
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return query execute p_sql using
        p_tsquery, p_query, p_part_number, p_kind, p_categories, p_brand, p_make_id, p_model_id, p_year,
        p_price_min, p_price_max, p_currency, p_region, p_city, p_condition, p_seller_type, p_has_photos,
        p_seller_id, p_shop_id, p_key1, p_key2, p_limit, p_tag;
end
$$;
comment on function core.search_page(
    text,
    tsquery,
    text,
    text,
    text,
    bigint[],
    text,
    bigint,
    bigint,
    integer,
    bigint,
    bigint,
    text,
    text,
    text,
    text, text, boolean, bigint, bigint, text, text, integer, text
) is
'Run a search query written by api.search or api.search_facets with its values bound as $1..$23 (the '
'order of the header); the one place that lists them.';

create or replace function core.category_subtree(p_category_id bigint) returns bigint[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select case when p_category_id is not null then
        array(select c.id from core.categories as c where c.path @> array[p_category_id] order by c.id)
    end
$$;
comment on function core.category_subtree(bigint) is 'A category and all its descendants (NULL for NULL).';

create or replace function core.search_where(
    p_query text, p_tsquery tsquery, p_part_number text, p_kind text, p_categories bigint[], p_brand text,
    p_make_id bigint, p_model_id bigint, p_year integer, p_price_min bigint, p_price_max bigint,
    p_currency text, p_region text, p_city text, p_condition text, p_seller_type text, p_has_photos boolean,
    p_seller_id bigint, p_shop_id bigint, p_tag text, out mode text, out condition text
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_found boolean;
begin
    -- full text (or an exact part number) first; the typo-tolerant match when that finds nothing
    -- within the filters (checked below: one indexed EXISTS with every filter)
    mode := case when p_query is null then 'none' else 'text' end;
    condition := core.search_condition(mode, p_kind, p_categories, p_brand, p_make_id, p_model_id, p_year,
                                       p_price_min, p_price_max, p_region, p_city, p_condition, p_seller_type,
                                       p_has_photos, p_seller_id, p_shop_id, p_tag);
    if mode = 'text' then
        -- words found somewhere, but not within these filters: the typo-tolerant match, with the
        -- filters ($1.. as core.search_page binds them)
        execute 'select exists (select from core.listings as l where ' || condition || ')' into v_found
        using p_tsquery, lower(p_query), p_part_number, p_kind, p_categories, p_brand, p_make_id, p_model_id,
            p_year, p_price_min, p_price_max, p_currency, p_region, p_city, p_condition, p_seller_type,
            p_has_photos, p_seller_id, p_shop_id, null::text, null::text, null::integer, p_tag;
        if not v_found then
            mode := 'fuzzy';
            condition := core.search_condition(mode, p_kind, p_categories, p_brand, p_make_id, p_model_id,
                                               p_year, p_price_min, p_price_max, p_region, p_city, p_condition,
                                               p_seller_type, p_has_photos, p_seller_id, p_shop_id, p_tag);
        end if;
    end if;
end
$$;
comment on function core.search_where(
    text, tsquery, text, text, bigint[], text, bigint, bigint, integer, bigint, bigint, text, text, text,
    text, text, boolean, bigint, bigint, text
) is
'How a search matches and its WHERE condition (for core.search_page''s parameters): full text when it '
'finds something within the filters, else the typo-tolerant match with the same filters. api.search and '
'api.search_facets share it.';
