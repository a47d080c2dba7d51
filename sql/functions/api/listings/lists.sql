-- Lists of listings: your own in any status, a seller's and a shop's on sale.

create or replace function api.my_listings(p_token text, p_status text default null)
returns table (
    listing_id bigint, kind text, title text, status text, price_amount bigint, currency text,
    created_at timestamptz, sort_date timestamptz, shop_id bigint
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    if p_status is not null and not p_status = any(enum_range(null::core.listing_status)::text[]) then
        perform core.raise_invalid(format('unknown status %s', core.quoted(p_status)));
    end if;
    return query
    select l.id, l.kind::text, l.title, l.status::text, l.price_amount, l.currency, l.created_at, l.sort_date,
        l.shop_id
    from core.listings as l
    where l.seller_id = v_user.id and (p_status is null or l.status::text = p_status)
    order by l.sort_date desc, l.id desc;
end
$$;
comment on function api.my_listings(text, text) is
'The signed-in user''s own listings in any status (or one status), newest first. 28000/42501; 22023.';

create or replace function api.seller_listings(
    p_user_id bigint, p_cursor text default null, p_limit integer default 20
)
returns table (
    listing_id bigint, title text, price_amount bigint, currency text, city text, sort_date timestamptz,
    next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return query
    select s.listing_id, s.title, s.price_amount, s.currency, s.city, s.sort_date, s.next_cursor
    from api.search(p_seller_id => p_user_id, p_sort => 'newest', p_cursor => p_cursor, p_limit => p_limit) as s;
end
$$;
comment on function api.seller_listings(bigint, text, integer) is
'A seller''s published listings, newest first, in keyset pages (see api.search). No token. 22023 bad page.';

create or replace function api.shop_listings(
    p_shop_id bigint, p_cursor text default null, p_limit integer default 20
)
returns table (
    listing_id bigint, title text, price_amount bigint, currency text, city text, sort_date timestamptz,
    next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (select from core.shops as s where s.id = p_shop_id) then
        raise exception using errcode = 'P0002', message = format('no shop %s', p_shop_id);
    end if;
    return query
    select s.listing_id, s.title, s.price_amount, s.currency, s.city, s.sort_date, s.next_cursor
    from api.search(p_shop_id => p_shop_id, p_sort => 'newest', p_cursor => p_cursor, p_limit => p_limit) as s;
end
$$;
comment on function api.shop_listings(bigint, text, integer) is
'A shop''s published listings, newest first, in keyset pages (see api.search). No token. P0002 no shop; '
'22023 bad page.';
