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
    v_row core.orders;
begin
    if p_order.status <> 'reserved' then
        raise exception using
            errcode = '55000',
            message = format('order %s is already %s', p_order.id, p_order.status);
    end if;
    -- lock order: listing, then order (everywhere), so concurrent orders cannot deadlock
    v_listing := core.lock_listing(p_order.listing_id);
    if p_to = 'paid' then
        update core.listings as l
        set quantity = l.quantity - p_order.quantity, reserved_quantity = l.reserved_quantity - p_order.quantity
        where l.id = p_order.listing_id
        returning l.* into v_listing;
    else
        update core.listings as l set reserved_quantity = l.reserved_quantity - p_order.quantity
        where l.id = p_order.listing_id
        returning l.* into v_listing;
    end if;
    -- the listing's status follows its stock: sold out, reserved (all held), or on sale again
    if v_listing.quantity = 0 and v_listing.status in ('published', 'reserved') then
        perform core.transition_listing(v_listing, 'sold', p_actor_id, 'stock sold out');
    elsif v_listing.status = 'reserved' and v_listing.quantity > v_listing.reserved_quantity then
        perform core.transition_listing(v_listing, 'published', p_actor_id, 'reservation released');
    end if;
    update core.orders as o set
        status = p_to,
        payment_status = case when p_to = 'paid' then 'paid'::core.payment_status else o.payment_status end,
        closed_at = now()
    where o.id = p_order.id
    returning o.* into v_row;
    insert into core.order_transitions (order_id, from_status, to_status, changed_by, reason)
    values (p_order.id, p_order.status, p_to, p_actor_id, p_reason);
    perform core.notify(v_row.buyer_id, 'order_' || p_to::text,
                        jsonb_build_object('order_id', v_row.id, 'listing_id', v_row.listing_id, 'reason', p_reason));
    if p_actor_id is distinct from v_row.seller_id then
        perform core.notify(v_row.seller_id, 'order_' || p_to::text,
                            jsonb_build_object('order_id', v_row.id, 'listing_id', v_row.listing_id, 'reason', p_reason));
    end if;
    return v_row;
end
$$;
comment on function core.close_order(core.orders, core.order_status, bigint, text) is
'Close a reserved order as paid (its units leave stock for good), cancelled or expired (its units are '
'released); the listing''s status follows its stock; history and notifications in the same transaction.';
