-- A shop's back office (issue 17): its staff list every listing of the shop in any status and the
-- orders of its listings, newest first, in keyset pages with a status filter.

create or replace function api.shop_inventory(
    p_token text, p_shop_id bigint, p_status text default null, p_cursor text default null,
    p_limit integer default 50
)
returns table (
    listing_id bigint, kind text, title text, status text, price_amount bigint, currency text,
    quantity integer, available_quantity integer, seller_id bigint, pending_changes boolean,
    rejection_reason text, created_at timestamptz, status_changed_at timestamptz, next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_after record := core.shop_page(p_token, p_shop_id, p_status, enum_range(null::core.listing_status)::text[],
                                     p_cursor, p_limit, 'see its listings');
begin
    return query
    with page as (
        select x.*, row_number() over (order by x.created_at desc, x.id desc) as n,
            count(*) over () as total
        from (
            select l.* from core.listings as l
            where l.shop_id = p_shop_id
                and (p_status is null or l.status::text = p_status)
                and (v_after.at is null or (l.created_at, l.id) < (v_after.at, v_after.id))
            order by l.created_at desc, l.id desc
            limit p_limit + 1
        ) as x
    )
    select p.id, p.kind::text, p.title, p.status::text, p.price_amount, p.currency, p.quantity,
        p.quantity - p.reserved_quantity, p.seller_id,
        exists (select from core.listing_revisions as r where r.listing_id = p.id and r.status = 'pending'),
        p.rejection_reason, p.created_at, p.status_changed_at,
        case when p.n = p_limit and p.total > p_limit
             then core.keyset_cursor(p.created_at, p.id) end
    from page as p
    where p.n <= p_limit
    order by p.created_at desc, p.id desc;
end
$$;
comment on function api.shop_inventory(text, bigint, text, text, integer) is
'Every listing of a shop in any status (or one: P_STATUS), newest first, for its owners, managers and '
'sellers: stock, whether changes wait for a moderator, the rejection reason. Keyset pages of P_LIMIT '
'(1-500): the last row of a page with more after it carries next_cursor for P_CURSOR. 28000/42501 '
'token; 42501 not a member; P0002 no shop; 22023 bad status, cursor or limit.';

create or replace function api.shop_orders(
    p_token text, p_shop_id bigint, p_status text default null, p_cursor text default null,
    p_limit integer default 50
)
returns table (
    order_id bigint, buyer_id bigint, buyer_name text, listing_id bigint, title text, units integer,
    total_amount bigint, currency text, status text, reserved_until timestamptz, created_at timestamptz,
    next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_after record := core.shop_page(p_token, p_shop_id, p_status, enum_range(null::core.order_status)::text[],
                                     p_cursor, p_limit, 'see its orders');
begin
    return query
    with page as (
        select x.*, row_number() over (order by x.created_at desc, x.id desc) as n,
            count(*) over () as total
        from (
            select o.* from core.orders as o
            where o.shop_id = p_shop_id
                and (p_status is null or o.status::text = p_status)
                and (v_after.at is null or (o.created_at, o.id) < (v_after.at, v_after.id))
            order by o.created_at desc, o.id desc
            limit p_limit + 1
        ) as x
    )
    select p.id, p.buyer_id, u.display_name, s.listing_id, s.title, s.units, p.total_amount, p.currency,
        p.status::text, p.reserved_until, p.created_at,
        case when p.n = p_limit and p.total > p_limit
             then core.keyset_cursor(p.created_at, p.id) end
    from page as p
    join core.users as u on u.id = p.buyer_id
    cross join lateral core.order_summary(p.id) as s
    where p.n <= p_limit
    order by p.created_at desc, p.id desc;
end
$$;
comment on function api.shop_orders(text, bigint, text, text, integer) is
'The orders of a shop''s listings (or those of one status), newest first, for its owners, managers and '
'sellers: the buyer, the first listing "(+N more)", units, total, status. Keyset pages of P_LIMIT '
'(1-500) with next_cursor. 28000/42501 token; 42501 not a member; P0002 no shop; 22023 bad status, '
'cursor or limit.';
