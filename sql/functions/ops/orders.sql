create or replace function ops.expire_reservations() returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_order core.orders;
    v_count integer := 0;
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
    return v_count;
end
$$;
comment on function ops.expire_reservations() is
'Expire reserved orders past reserved_until and release their units; returns how many. pg_cron runs it '
'every minute on the leader.';

create or replace function ops.maintain_partitions() returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_table regclass;
    v_result jsonb := jsonb_build_object('created', 0, 'dropped', 0, 'errors', '[]'::jsonb);
begin
    -- each table on its own: one that fails (and says why) must not stop the others
    foreach v_table in array array[
        'core.audit_log', 'core.chat_messages', 'core.contact_clicks', 'core.notifications'
    ]::regclass[] loop
        begin
            v_result := jsonb_set(v_result, '{created}',
                                  to_jsonb((v_result ->> 'created')::integer
                                           + ops.create_monthly_partitions(v_table, 0, 3)));
        exception when others then
            raise warning 'partition maintenance of % failed: %', v_table, sqlerrm;
            v_result := jsonb_set(v_result, '{errors}', (v_result -> 'errors')
                                  || jsonb_build_object('table', v_table::text, 'error', sqlerrm));
        end;
    end loop;
    begin
        v_result := jsonb_set(v_result, '{dropped}', to_jsonb(ops.drop_old_partitions(
            'core.contact_clicks', core.setting_interval('click_retention'))));
    exception when others then
        raise warning 'click retention failed: %', sqlerrm;
        v_result := jsonb_set(v_result, '{errors}', (v_result -> 'errors')
                              || jsonb_build_object('table', 'core.contact_clicks', 'error', sqlerrm));
    end;
    return v_result;
end
$$;
comment on function ops.maintain_partitions() is
'Create the next three months of every time-partitioned table (moving rows that waited in a default '
'partition) and drop contact-click months older than click_retention; each table on its own, failures '
'reported in the result and as warnings. pg_cron runs it daily on the leader.';
