create or replace function core.lock_order(p_order_id bigint) returns core.orders
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_order core.orders;
begin
    select o.* into v_order from core.orders as o where o.id = p_order_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no order %s', p_order_id);
    end if;
    return v_order;
end
$$;
comment on function core.lock_order(bigint) is 'Lock an order for a change; P0002 when it does not exist.';

create or replace function core.lock_listings(p_listing_ids bigint[], p_skip_locked boolean default false)
returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id bigint;
begin
    -- THE lock order (ADR 0008): listings in ascending id, then order rows. Every function that
    -- locks more than one listing comes through here, so two of them can never wait on each other
    for v_id in select distinct i from unnest(p_listing_ids) as i where i is not null order by i loop
        if p_skip_locked then
            perform from core.listings as l where l.id = v_id for update skip locked;
            if not found then
                return false;
            end if;
        else
            perform core.lock_listing(v_id);
        end if;
    end loop;
    return true;
end
$$;
comment on function core.lock_listings(bigint[], boolean) is
'Lock listings in ascending id (the lock order of ADR 0008); P0002 for a missing one. With '
'P_SKIP_LOCKED, returns false at the first listing someone else holds instead of waiting.';

create or replace function core.order_listing_ids(p_order_id bigint) returns bigint[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(array_agg(ol.listing_id order by ol.listing_id), '{}')
    from core.order_lines as ol where ol.order_id = p_order_id
$$;
comment on function core.order_listing_ids(bigint) is 'The listings of an order''s lines, ascending.';

create or replace function core.unit_price(p_listing core.listings, p_quantity integer) returns bigint
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select case when p_listing.wholesale_min_quantity is not null and p_quantity >= p_listing.wholesale_min_quantity
                then p_listing.wholesale_price_amount else p_listing.price_amount end
$$;
comment on function core.unit_price(core.listings, integer) is
'The unit price for P_QUANTITY units: the wholesale price from its minimum quantity, else the unit price.';

create or replace function core.order_refusal(
    p_listing core.listings, p_buyer_id bigint, p_quantity integer
) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_available integer := greatest(p_listing.quantity - p_listing.reserved_quantity, 0);
    v_reason text;
    v_message text;
begin
    if p_listing.seller_id = p_buyer_id then
        v_reason := 'own_listing';
        v_message := 'your own listing';
    elsif p_listing.status not in ('published', 'reserved') or p_listing.seller_blocked then
        v_reason := 'not_on_sale';
        v_message := format('not on sale (%s)', case when p_listing.seller_blocked then 'seller blocked'
                                                     else p_listing.status::text end);
    elsif exists (select from core.users as u where u.id = p_listing.seller_id and u.blocked_at is not null) then
        v_reason := 'seller_blocked';
        v_message := 'the seller is blocked';
    elsif v_available = 0 then
        v_reason := 'sold_out';
        v_message := 'sold out';
    elsif v_available < p_quantity then
        v_reason := 'not_enough_stock';
        v_message := format('not enough stock: %s of %s available', v_available, p_quantity);
    else
        return null;
    end if;
    return jsonb_build_object('listing_id', p_listing.id, 'reason', v_reason, 'message', v_message,
                              'available', v_available, 'requested', p_quantity);
end
$$;
comment on function core.order_refusal(core.listings, bigint, integer) is
'Why P_QUANTITY units of a listing cannot be reserved for a buyer, or null when they can: '
'{listing_id, reason, message, available, requested} with reason one of own_listing, not_on_sale, '
'seller_blocked, sold_out, not_enough_stock (docs/errors.md, "Refusal reasons"). Call it with the '
'listing locked.';

create or replace function core.place_order(
    p_buyer_id bigint,
    p_listing_ids bigint[],
    p_quantities integer[],
    p_idempotency_key text default null,
    p_checkout_id bigint default null
) returns core.orders
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
    v_order core.orders;
    v_line record;
    v_price bigint;
begin
    -- the caller has locked every listing (core.lock_listings) and checked it (core.order_refusal);
    -- the lines share one seller, shop and currency
    select l.* into v_listing from core.listings as l where l.id = p_listing_ids[1];
    insert into core.orders (buyer_id, seller_id, shop_id, total_amount, currency, reserved_until,
                             idempotency_key, checkout_id)
    values (p_buyer_id, v_listing.seller_id, v_listing.shop_id, 1, v_listing.currency,
            now() + core.setting_interval('reservation_lifetime'), p_idempotency_key, p_checkout_id)
    returning * into v_order;
    for v_line in
        select i.listing_id, i.quantity from unnest(p_listing_ids, p_quantities) as i (listing_id, quantity)
        order by i.listing_id
    loop
        select l.* into v_listing from core.listings as l where l.id = v_line.listing_id;
        v_price := core.unit_price(v_listing, v_line.quantity);
        insert into core.order_lines (order_id, listing_id, quantity, unit_price_amount, wholesale, line_amount)
        values (v_order.id, v_line.listing_id, v_line.quantity, v_price, v_price <> v_listing.price_amount,
                v_price * v_line.quantity);
        -- the stock check on core.listings is the final guard against overselling
        update core.listings as l set reserved_quantity = l.reserved_quantity + v_line.quantity
        where l.id = v_line.listing_id
        returning l.* into v_listing;
        if v_listing.quantity = v_listing.reserved_quantity and v_listing.status = 'published' then
            perform core.transition_listing(v_listing, 'reserved', p_buyer_id, 'every unit reserved');
        end if;
    end loop;
    update core.orders as o
    set total_amount = (select sum(ol.line_amount) from core.order_lines as ol where ol.order_id = o.id)
    where o.id = v_order.id
    returning o.* into v_order;
    insert into core.order_status_history (order_id, from_status, to_status, changed_by)
    values (v_order.id, null, 'reserved', p_buyer_id);
    perform core.notify(v_order.seller_id, 'order_reserved',
                        jsonb_build_object('order_id', v_order.id, 'listing_ids', core.order_listing_ids(v_order.id),
                                           'total_amount', v_order.total_amount));
    return v_order;
end
$$;
comment on function core.place_order(bigint, bigint[], integer[], text, bigint) is
'Create a reserved order of one seller''s listings (locked and checked by the caller): the lines at '
'their current price, the units reserved, the listing reserved when every unit is held, history and '
'the seller''s notification.';

create or replace function core.is_seller_side(p_user core.users, p_order core.orders) returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.acts_for_seller(p_user.id, p_order.seller_id, p_order.shop_id);
end
$$;
comment on function core.is_seller_side(core.users, core.orders) is
'The order''s seller side: core.acts_for_seller.';

create or replace function core.close_order(
    p_order core.orders, p_to core.order_status, p_actor_id bigint, p_reason text default null
) returns core.orders
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
    v_line core.order_lines;
    v_row core.orders;
    v_payload jsonb;
begin
    if not exists (
        select from core.order_transitions as t where t.from_status = p_order.status and t.to_status = p_to
    ) then
        raise exception using
            errcode = '55000',
            message = format('order %s is already %s', p_order.id, p_order.status),
            detail = '{"reason": "order_closed"}';
    end if;
    -- lock order: listings ascending, then the order (everywhere), so concurrent orders cannot deadlock
    perform core.lock_listings(core.order_listing_ids(p_order.id));
    for v_line in
        select ol.* from core.order_lines as ol where ol.order_id = p_order.id order by ol.listing_id
    loop
        if p_to = 'paid' then
            update core.listings as l
            set quantity = l.quantity - v_line.quantity, reserved_quantity = l.reserved_quantity - v_line.quantity
            where l.id = v_line.listing_id
            returning l.* into v_listing;
        else
            update core.listings as l set reserved_quantity = l.reserved_quantity - v_line.quantity
            where l.id = v_line.listing_id
            returning l.* into v_listing;
        end if;
        -- the listing's status follows its stock: sold out, reserved (all held), or on sale again
        if v_listing.quantity = 0 and v_listing.status in ('published', 'reserved') then
            perform core.transition_listing(v_listing, 'sold', p_actor_id, 'stock sold out');
        elsif v_listing.status = 'reserved' and v_listing.quantity > v_listing.reserved_quantity then
            perform core.transition_listing(v_listing, 'published', p_actor_id, 'reservation released');
        end if;
    end loop;
    update core.orders as o set
        status = p_to,
        payment_status = case when p_to = 'paid' then 'paid'::core.payment_status else o.payment_status end,
        closed_at = now()
    where o.id = p_order.id
    returning o.* into v_row;
    insert into core.order_status_history (order_id, from_status, to_status, changed_by, reason)
    values (p_order.id, p_order.status, p_to, p_actor_id, p_reason);
    v_payload := jsonb_build_object('order_id', v_row.id, 'listing_ids', core.order_listing_ids(v_row.id),
                                    'reason', p_reason);
    perform core.notify(v_row.buyer_id, 'order_' || p_to::text, v_payload);
    if p_actor_id is distinct from v_row.seller_id then
        perform core.notify(v_row.seller_id, 'order_' || p_to::text, v_payload);
    end if;
    return v_row;
end
$$;
comment on function core.close_order(core.orders, core.order_status, bigint, text) is
'Close a reserved order as paid (its units leave stock for good), cancelled or expired (its units are '
'released), every line together; each listing''s status follows its stock; history and notifications '
'in the same transaction.';

create or replace function core.lock_order_for(p_user core.users, p_order_id bigint, p_buyer_may boolean)
returns core.orders
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_order core.orders;
begin
    select o.* into v_order from core.orders as o where o.id = p_order_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no order %s', p_order_id);
    end if;
    if not (core.is_seller_side(p_user, v_order) or (p_buyer_may and v_order.buyer_id = p_user.id)) then
        raise exception using
            errcode = '42501',
            message = case when p_buyer_may then 'only the buyer or the seller may change this order'
                           else 'only the seller may do this' end;
    end if;
    -- the one lock order: the order's listings in ascending id, then the order
    perform core.lock_listings(core.order_listing_ids(p_order_id));
    return core.lock_order(p_order_id);
end
$$;
comment on function core.lock_order_for(core.users, bigint, boolean) is
'Find an order (P0002), check that the user is its seller side or, when P_BUYER_MAY, its buyer (42501), '
'then lock its listings in ascending id and the order itself; returns the locked order.';

create or replace function core.order_summary(p_order_id bigint)
returns table (listing_id bigint, title text, units integer)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select first_line.listing_id,
        first_line.title || case when lines.n > 1 then format(' (+%s more)', lines.n - 1) else '' end,
        lines.units
    from (
        select count(*)::integer as n, sum(ol.quantity)::integer as units
        from core.order_lines as ol where ol.order_id = p_order_id
    ) as lines
    cross join lateral (
        select ol.listing_id, l.title from core.order_lines as ol join core.listings as l on l.id = ol.listing_id
        where ol.order_id = p_order_id order by ol.listing_id limit 1
    ) as first_line
$$;
comment on function core.order_summary(bigint) is
'An order in one line: its first listing, that listing''s title with "(+N more)" for the others, and '
'the units of all its lines.';
