create or replace function ops.expire_reservations() returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_order core.orders;
    v_count integer := 0;
    v_expired_promotions integer;
begin
    for v_order in
        select o.* from core.orders as o
        where o.status = 'reserved' and o.reserved_until <= now()
        order by o.reserved_until
    loop
        -- the same lock order as the api: listings ascending, then the order; skip what a buyer or
        -- seller is closing right now (the next run sees it again if it is still open)
        if not core.lock_listings(core.order_listing_ids(v_order.id), p_skip_locked => true) then
            continue;
        end if;
        select o.* into v_order from core.orders as o where o.id = v_order.id for update skip locked;
        if not found or v_order.status <> 'reserved' then
            continue;
        end if;
        perform core.close_order(v_order, 'expired', null, 'not paid in time');
        v_count := v_count + 1;
    end loop;
    -- promotion orders not paid in time (they hold no stock: one statement)
    update core.promotion_orders as o set status = 'expired', closed_at = now()
    where o.status = 'reserved' and o.reserved_until <= now();
    get diagnostics v_expired_promotions = row_count;
    return v_count + v_expired_promotions;
end
$$;
comment on function ops.expire_reservations() is
'Expire reserved orders past reserved_until and release their units, and promotion orders not paid in '
'time; returns how many. pg_cron runs it every minute on the leader.';
