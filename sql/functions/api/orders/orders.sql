create or replace function api.create_order(
    p_token text, p_listing_id bigint, p_quantity integer default 1, p_idempotency_key text default null
) returns table (
    order_id bigint, status text, quantity integer, unit_price_amount bigint, total_amount bigint,
    currency text, wholesale boolean, reserved_until timestamptz, created boolean
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
    v_listing core.listings;
    v_existing core.orders;
    v_line core.order_lines;
    v_refusal jsonb;
    v_order core.orders;
begin
    if p_quantity is null or p_quantity < 1 or p_quantity > 100000 then
        perform core.raise_invalid('the quantity must be between 1 and 100000');
    end if;
    if char_length(p_idempotency_key) not between 1 and 100 then
        perform core.raise_invalid('the idempotency key must be 1 to 100 characters');
    end if;
    -- the listing row is the lock every order of it takes first: reservations of one listing
    -- are serialised, so reserved + sold can never pass the stock
    v_listing := core.lock_listing(p_listing_id);
    if p_idempotency_key is not null then
        select o.* into v_existing from core.orders as o
        where o.buyer_id = v_buyer.id and o.idempotency_key = p_idempotency_key;
        if found then
            select ol.* into v_line from core.order_lines as ol where ol.order_id = v_existing.id;
            if (select count(*) from core.order_lines as ol where ol.order_id = v_existing.id) <> 1
               or (v_line.listing_id, v_line.quantity) is distinct from (p_listing_id, p_quantity) then
                raise exception using
                    errcode = '23505',
                    message = 'this idempotency key was used for another order',
                    hint = 'use a new key for a new order';
            end if;
            return query select v_existing.id, v_existing.status::text, v_line.quantity,
                v_line.unit_price_amount, v_existing.total_amount, v_existing.currency, v_line.wholesale,
                v_existing.reserved_until, false;
            return;
        end if;
    end if;
    v_refusal := core.order_refusal(v_listing, v_buyer.id, p_quantity);
    -- the reason, machine-readable, in DETAIL as JSON (docs/errors.md, "Refusal reasons")
    if v_refusal ->> 'reason' in ('sold_out', 'not_enough_stock') then
        raise exception using
            errcode = '55000',
            message = format('listing %s cannot be ordered: %s', p_listing_id, v_refusal ->> 'message'),
            detail = v_refusal::text,
            hint = 'reserved units come back if their orders are not paid in time';
    elsif v_refusal is not null then
        raise exception using
            errcode = '55000',
            message = format('listing %s cannot be ordered: %s', p_listing_id, v_refusal ->> 'message'),
            detail = v_refusal::text;
    end if;
    v_order := core.place_order(v_buyer.id, array[p_listing_id], array[p_quantity], p_idempotency_key);
    select ol.* into v_line from core.order_lines as ol where ol.order_id = v_order.id;
    return query select v_order.id, v_order.status::text, v_line.quantity, v_line.unit_price_amount,
        v_order.total_amount, v_order.currency, v_line.wholesale, v_order.reserved_until, true;
end
$$;
comment on function api.create_order(text, bigint, integer, text) is
'Order units of a listing: they are reserved at once for reservation_lifetime (the wholesale price '
'applies from its minimum quantity). The same idempotency key returns the same order (created = false). '
'28000/42501 token; P0002 no listing; 55000 own listing, not on sale, seller blocked, not enough units; '
'23505 key used for another order; 22023 bad quantity or key.';

create or replace function api.pay_order(p_token text, p_order_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_order core.orders := core.lock_order_for(v_user, p_order_id, false);
begin
    if v_order.status = 'reserved' and v_order.reserved_until <= now() then
        raise exception using errcode = '55000', message = 'the reservation expired before the payment',
            hint = 'the buyer can order again',
            detail = '{"reason": "reservation_expired"}';
    end if;
    v_order := core.close_order(v_order, 'paid', v_user.id);
    -- a paid order is a deal; the buyer is asked to review the seller
    -- the deal names the order's first listing; the order names them all
    perform core.record_deal(v_order.seller_id, v_order.buyer_id, (core.order_listing_ids(v_order.id))[1],
                             v_order.id);
    return v_order.status::text;
end
$$;
comment on function api.pay_order(text, bigint) is
'The seller confirms payment: the units leave stock for good, the order is a deal, and the buyer is '
'asked for a review. 28000/42501 token; 42501 not the seller side; P0002 no order; 55000 not reserved '
'or the reservation expired.';

create or replace function api.cancel_order(p_token text, p_order_id bigint, p_reason text default null)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_order core.orders;
begin
    if char_length(p_reason) > 500 then
        perform core.raise_invalid('the reason must be at most 500 characters');
    end if;
    v_order := core.lock_order_for(v_user, p_order_id, true);
    return (core.close_order(v_order, 'cancelled', v_user.id, nullif(btrim(p_reason), ''))).status::text;
end
$$;
comment on function api.cancel_order(text, bigint, text) is
'Cancel a reserved order (its buyer or seller side); the units are available again. 28000/42501 '
'token; 42501 neither buyer nor seller; P0002 no order; 55000 not reserved; 22023 reason over 500.';

create or replace function api.order_details(p_token text, p_order_id bigint)
returns table (
    order_id bigint, checkout_id bigint, buyer_id bigint, seller_id bigint, shop_id bigint,
    total_amount bigint, currency text, status text, payment_status text, reserved_until timestamptz,
    created_at timestamptz, closed_at timestamptz, lines jsonb, history jsonb
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_order core.orders;
begin
    select o.* into v_order from core.orders as o where o.id = p_order_id;
    if not found or not (v_order.buyer_id = v_user.id or core.is_seller_side(v_user, v_order)
                         or v_user.role >= 'moderator') then
        raise exception using errcode = 'P0002', message = format('no order %s', p_order_id);
    end if;
    return query
    select o.id, o.checkout_id, o.buyer_id, o.seller_id, o.shop_id, o.total_amount, o.currency, o.status::text,
        o.payment_status::text, o.reserved_until, o.created_at, o.closed_at,
        (select jsonb_agg(jsonb_build_object('listing_id', ol.listing_id, 'title', l.title,
                                             'quantity', ol.quantity, 'unit_price_amount', ol.unit_price_amount,
                                             'wholesale', ol.wholesale, 'line_amount', ol.line_amount)
                          order by ol.listing_id)
         from core.order_lines as ol join core.listings as l on l.id = ol.listing_id
         where ol.order_id = o.id),
        (select jsonb_agg(jsonb_build_object('from', t.from_status, 'to', t.to_status, 'at', t.changed_at,
                                             'by', t.changed_by, 'reason', t.reason) order by t.id)
         from core.order_status_history as t where t.order_id = o.id)
    from core.orders as o
    where o.id = p_order_id;
end
$$;
comment on function api.order_details(text, bigint) is
'An order with its lines (listing, title, quantity, unit price, wholesale, amount) and its history, for '
'its buyer, its seller side and staff. 28000/42501; P0002 otherwise.';

create or replace function api.my_orders(p_token text, p_as text default 'buyer')
returns table (
    order_id bigint, listing_id bigint, title text, quantity integer, total_amount bigint, currency text,
    status text, reserved_until timestamptz, created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    if p_as is null or p_as not in ('buyer', 'seller') then
        perform core.raise_invalid('list orders as buyer or as seller');
    end if;
    return query
    select o.id, s.listing_id, s.title, s.units, o.total_amount, o.currency, o.status::text, o.reserved_until,
        o.created_at
    from core.orders as o
    cross join lateral core.order_summary(o.id) as s
    where (p_as = 'buyer' and o.buyer_id = v_user.id) or (p_as = 'seller' and o.seller_id = v_user.id)
    order by o.created_at desc, o.id desc;
end
$$;
comment on function api.my_orders(text, text) is
'Your orders as buyer, or the orders of your listings as seller, newest first; an order of several '
'listings shows its first listing, "(+N more)" and the units of all lines. 28000/42501; 22023.';
