-- Saved searches: which ones a newly published listing matches, the notifications that follow, and
-- a search's filters as the api shows them.

-- A listing against every saved search at once: each filter of the search is a condition on the one
-- listing, true when the filter is absent. The same conditions as core.search_condition (mode text:
-- a saved search never falls back to typo tolerance), written for one listing and many searches, so
-- that matching costs one scan of the saved searches, not one query each (ADR 0022).
create or replace function core.saved_search_matches(p_listing_id bigint)
returns table (saved_search_id bigint, user_id bigint, name text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_l record;
begin
    -- the listing first, as values: the one statement below is then a single pass over the searches
    select l.id, l.kind, l.seller_id, l.brand, l.model_id, m.make_id, l.attributes, l.price_amount, l.currency,
        l.region, l.city, l.shop_id, l.photo_count, l.search_vector, l.part_number, c.path as categories,
        core.listing_tag_names(l.id) as tags
    into v_l
    from core.listings as l
    join core.categories as c on c.id = l.category_id
    left join core.vehicle_models as m on m.id = l.model_id
    where l.id = p_listing_id;
    if v_l.id is null then
        return;
    end if;
    return query
    select s.id, s.user_id, s.name
    from core.saved_searches as s
    join core.users as u on u.id = s.user_id and u.blocked_at is null
    where s.user_id <> v_l.seller_id
        and (s.kind is null or s.kind = v_l.kind)
        and (s.category_id is null or s.category_id = any(v_l.categories))
        and (s.brand is null or lower(s.brand) = lower(v_l.brand))
        and (s.price_min is null and s.price_max is null or s.currency = v_l.currency)
        and (s.price_min is null or v_l.price_amount >= s.price_min)
        and (s.price_max is null or v_l.price_amount <= s.price_max)
        and (s.region is null or lower(s.region) = lower(v_l.region))
        and (s.city is null or lower(s.city) = lower(v_l.city))
        and (s.condition is null or v_l.attributes ->> 'condition' = s.condition)
        and (s.seller_type is null or (s.seller_type = 'shop') = (v_l.shop_id is not null))
        and (s.has_photos is null or s.has_photos = (v_l.photo_count > 0))
        and (s.tag is null or s.tag = any(v_l.tags))
        -- cars by their own model and year, parts by their fitment
        and (s.make_id is null and s.model_id is null and s.year is null
            or v_l.kind = 'car'
                and (s.model_id is null or v_l.model_id = s.model_id)
                and (s.model_id is not null or s.make_id is null or v_l.make_id = s.make_id)
                and (s.year is null or v_l.attributes @> jsonb_build_object('year', s.year))
            or v_l.kind = 'part' and exists (
                select from core.part_fitments as f
                join core.vehicle_models as fm on fm.id = f.model_id
                where f.listing_id = v_l.id
                    and (s.model_id is null or f.model_id = s.model_id)
                    and (s.model_id is not null or s.make_id is null or fm.make_id = s.make_id)
                    and (s.year is null or s.year between f.year_from and f.year_to)))
        and (s.query is null or v_l.search_vector @@ websearch_to_tsquery('russian', s.query)
            or v_l.part_number = core.normalize_part_number(s.query));
end
$$;
comment on function core.saved_search_matches(bigint) is
'The saved searches a listing matches, by anyone but its seller and blocked users: the conditions of '
'api.search (text mode) for each search''s filters, evaluated for this one listing in one statement.';

create or replace function core.notify_saved_searches(p_listing_id bigint) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
    v_notified integer := 0;
    v_match record;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    if v_listing.status is distinct from 'published' or v_listing.seller_blocked then
        return 0;  -- taken off the market before its turn came: nobody hears of it
    end if;
    -- one notification per watcher, however many of their searches match: for their oldest one
    for v_match in
        select distinct on (m.user_id) m.saved_search_id, m.user_id, m.name
        from core.saved_search_matches(p_listing_id) as m
        order by m.user_id, m.saved_search_id
    loop
        perform core.notify(v_match.user_id, 'saved_search_match',
                            jsonb_build_object('saved_search_id', v_match.saved_search_id, 'name', v_match.name,
                                               'listing_id', p_listing_id, 'title', v_listing.title));
        v_notified := v_notified + 1;
    end loop;
    return v_notified;
end
$$;
comment on function core.notify_saved_searches(bigint) is
'Notify, once each, the users with a saved search that a published listing matches '
'(core.saved_search_matches); returns how many were notified. Run by ops.match_saved_searches, never '
'inside the moderator''s transaction.';

create or replace function core.saved_search_filters(p_search core.saved_searches) returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select jsonb_strip_nulls(jsonb_build_object(
        'kind', p_search.kind, 'category_id', p_search.category_id, 'brand', p_search.brand,
        'make_id', p_search.make_id, 'model_id', p_search.model_id, 'year', p_search.year,
        'price_min', p_search.price_min, 'price_max', p_search.price_max,
        'currency', case when p_search.price_min is not null or p_search.price_max is not null
                         then p_search.currency end,
        'region', p_search.region, 'city', p_search.city, 'condition', p_search.condition,
        'seller_type', p_search.seller_type, 'has_photos', p_search.has_photos, 'tag', p_search.tag))
$$;
comment on function core.saved_search_filters(core.saved_searches) is
'A saved search''s filters as the JSON object api.save_search takes (absent filters left out).';
