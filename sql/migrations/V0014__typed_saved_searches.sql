-- Hostile input cannot stop the marketplace (ADR 0011), the schema's part in four migrations (3/4):
-- every value an api function stores has a type and a bound the table itself enforces, so no
-- writer (the api, the generator, a hand-written fix) can store what a reader later fails on.

-- Saved searches: typed columns instead of a JSON object ------------------------------------------
-- A filter is stored with its type, its foreign key and its bound, so matching one against a new
-- listing compares typed values and cannot fail on what was stored.

-- The one normalisation of search texts; a saved search's text is stored in its normal form, and a
-- check keeps it so (its current body is in sql/functions/core/search.sql, which replaces this).
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


alter table core.saved_searches
add column kind core.listing_kind,
add column category_id bigint,
add column brand text,
add column make_id bigint,
add column model_id bigint,
add column year integer,
add column price_min bigint,
add column price_max bigint,
add column currency text not null default 'RUB',
add column region text,
add column city text,
add column condition text,
add column seller_type text,
add column has_photos boolean,
add column tag text;

-- a filter naming a make or model that is not in the catalog never matched anything
delete from core.saved_searches as s
where
    (s.filters ? 'make_id' and not exists (
        select from core.vehicle_makes as m
        where m.id = (s.filters ->> 'make_id')::bigint
    ))
    or (s.filters ? 'model_id' and not exists (
        select from core.vehicle_models as m
        where m.id = (s.filters ->> 'model_id')::bigint
    ));

update core.saved_searches as s set
    kind = (s.filters ->> 'kind')::core.listing_kind,
    category_id = (s.filters ->> 'category_id')::bigint,
    brand = left(nullif(btrim(s.filters ->> 'brand'), ''), 60),
    make_id = (s.filters ->> 'make_id')::bigint,
    model_id = (s.filters ->> 'model_id')::bigint,
    year = (s.filters ->> 'year')::numeric::integer,
    price_min = (s.filters ->> 'price_min')::bigint,
    price_max = (s.filters ->> 'price_max')::bigint,
    currency = coalesce(s.filters ->> 'currency', 'RUB'),
    region = left(nullif(btrim(s.filters ->> 'region'), ''), 80),
    city = left(nullif(btrim(s.filters ->> 'city'), ''), 80),
    condition = s.filters ->> 'condition',
    seller_type = s.filters ->> 'seller_type',
    has_photos = (s.filters ->> 'has_photos')::boolean,
    tag = s.filters ->> 'tag',
    query = core.search_text(left(s.query, 200));

delete from core.saved_searches as s
where num_nonnulls(
    s.query, s.kind, s.category_id, s.brand, s.make_id, s.model_id, s.year, s.price_min, s.price_max,
    s.region, s.city, s.condition, s.seller_type, s.has_photos, s.tag
) = 0;

alter table core.saved_searches
drop column filters,
add constraint fk_saved_searches_category_id_categories foreign key (category_id)
references core.categories (id) on delete cascade,
add constraint fk_saved_searches_make_id_vehicle_makes foreign key (make_id)
references core.vehicle_makes (id) on delete cascade,
add constraint fk_saved_searches_model_id_vehicle_models foreign key (model_id)
references core.vehicle_models (id) on delete cascade,
add constraint check_saved_searches_query_length check (char_length(query) between 1 and 200),
-- what search reads: a stored text can always build its tsquery
add constraint check_saved_searches_query_normal check (query = core.search_text(query)),
add constraint check_saved_searches_brand_length check (char_length(brand) between 1 and 60),
add constraint check_saved_searches_region_length check (char_length(region) between 1 and 80),
add constraint check_saved_searches_city_length check (char_length(city) between 1 and 80),
add constraint check_saved_searches_year check (year between 1950 and 2100),
add constraint check_saved_searches_price_range check (
    price_min >= 0 and price_max >= 0 and (price_min <= price_max or price_min is null or price_max is null)
),
add constraint check_saved_searches_currency check (currency ~ '^[A-Z]{3}$'),
add constraint check_saved_searches_condition check (condition in ('new', 'used')),
add constraint check_saved_searches_seller_type check (seller_type in ('shop', 'private')),
add constraint check_saved_searches_tag check (
    char_length(tag) between 2 and 30 and tag = lower(tag) and tag = btrim(tag) and tag ~ '^[[:alnum:]_ -]+$'
),
add constraint check_saved_searches_something check (
    num_nonnulls(
        query, kind, category_id, brand, make_id, model_id, year, price_min, price_max, region, city,
        condition, seller_type, has_photos, tag
    ) > 0
);
create index index_saved_searches_on_category_id on core.saved_searches (category_id)
where category_id is not null;
create index index_saved_searches_on_make_id on core.saved_searches (make_id) where make_id is not null;
create index index_saved_searches_on_model_id on core.saved_searches (model_id) where model_id is not null;
comment on table core.saved_searches is
'A user''s saved search: normalised text and typed filters, the same as api.search takes; a category '
'watch is one with only a category. A newly published listing that matches notifies the user once.';

-- Publications wait here for saved-search matching, outside the moderator's transaction: no saved
-- search can fail (or slow down) an approval. ops.match_saved_searches drains it every minute.
create table core.saved_search_queue (
    listing_id bigint not null,
    queued_at timestamptz not null default now(),
    attempts integer not null default 0,
    last_error text,
    constraint pk_saved_search_queue primary key (listing_id),
    constraint fk_saved_search_queue_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint check_saved_search_queue_attempts check (attempts >= 0),
    constraint check_saved_search_queue_last_error_length check (char_length(last_error) <= 1000)
);
comment on table core.saved_search_queue is
'Listings published since the last saved-search matching run; a listing whose matching failed stays with '
'its error and is tried again, at most three times.';
create index index_saved_search_queue_on_queued_at on core.saved_search_queue (queued_at);
