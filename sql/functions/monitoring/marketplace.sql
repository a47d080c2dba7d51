-- The marketplace as metrics, for the marketplace exporter (bazaar/monitoring/exporter.py, role
-- bazaar_monitor). Every row is cheap at any scale: planner statistics for big tables' shares,
-- partial indexes for small queues, cumulative statistics views for counters.

create or replace function monitoring.marketplace_metrics()
returns table (metric text, labels jsonb, value double precision)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    -- listings and orders by status and kind, blocked users. Below 100,000 rows a table is counted
    -- (milliseconds); above, its row estimate times each value's share in the planner's statistics
    -- (no scan; as fresh as the last ANALYZE, which autovacuum keeps)
    with sizes as (
        select c.relname, greatest(c.reltuples, 0) as estimate
        from pg_class as c
        where c.oid in ('core.listings'::regclass, 'core.orders'::regclass, 'core.users'::regclass)
    ),
    small as (select relname from sizes where estimate < 100000)
    -- (counted: every value of the type, 0 when none, so a dashboard and an alert have a series)
    select 'bazaar_listings', jsonb_build_object('status', v.val), count(l.id)::float8
    from unnest(enum_range(null::core.listing_status)::text []) as v (val)
    left join core.listings as l on l.status::text = v.val
    where 'listings' in (select relname from small)
    group by v.val
    union all
    select 'bazaar_listings_by_kind', jsonb_build_object('kind', v.val), count(l.id)::float8
    from unnest(enum_range(null::core.listing_kind)::text []) as v (val)
    left join core.listings as l on l.kind::text = v.val
    where 'listings' in (select relname from small)
    group by v.val
    union all
    select 'bazaar_orders', jsonb_build_object('status', v.val), count(o.id)::float8
    from unnest(enum_range(null::core.order_status)::text []) as v (val)
    left join core.orders as o on o.status::text = v.val
    where 'orders' in (select relname from small)
    group by v.val
    union all
    select 'bazaar_users_blocked', '{}', count(*)::float8
    from core.users as u where 'users' in (select relname from small) and u.blocked_at is not null
    union all
    select
        case
            when s.tablename = 'orders' then 'bazaar_orders'
            when s.attname = 'kind' then 'bazaar_listings_by_kind'
            else 'bazaar_listings'
        end,
        jsonb_build_object(s.attname, v.val),
        round(v.freq * z.estimate)
    from pg_stats as s
    inner join sizes as z on z.relname = s.tablename and z.estimate >= 100000
    cross join lateral unnest(s.most_common_vals::text::text [], s.most_common_freqs) as v (val, freq)
    where
        s.schemaname = 'core'
        and (s.tablename, s.attname) in (('listings', 'status'), ('listings', 'kind'), ('orders', 'status'))
    union all
    select 'bazaar_users_blocked', '{}', round((1 - s.null_frac) * z.estimate)
    from pg_stats as s
    inner join sizes as z on z.relname = 'users' and z.estimate >= 100000
    where s.schemaname = 'core' and s.tablename = 'users' and s.attname = 'blocked_at'
    union all
    -- the moderation queue: new listings and changes to listings on sale (index_listings_on_pending,
    -- index_listing_revisions_on_pending_queue)
    select
        'bazaar_moderation_queue', '{}',
        (select count(*) from core.listings where status = 'pending')
        + (select count(*) from core.listing_revisions where status = 'pending')
    union all
    select
        'bazaar_moderation_oldest_seconds', '{}',
        coalesce(extract(epoch from now() - least(
            (select min(status_changed_at) from core.listings where status = 'pending'),
            (select min(updated_at) from core.listing_revisions where status = 'pending')
        )), 0)
    union all
    -- reservations that lapse within 15 minutes (index_orders_on_reserved_until)
    select 'bazaar_reservations_expiring_soon', '{}', count(*)
    from core.orders where status = 'reserved' and reserved_until < now() + interval '15 minutes'
    union all
    -- the outbox per channel: waiting, and the age of the oldest waiting (every channel, 0 when
    -- none), both from index_notifications_on_pending_channel (an index-only count, one probe)
    select
        'bazaar_outbox_pending',
        jsonb_build_object('channel', ch.channel::text),
        (
            select count(*) from core.notifications as n
            where n.channel = ch.channel and n.delivered_at is null and n.failed_at is null
        )
    from unnest(enum_range(null::core.notification_channel)) as ch (channel)
    union all
    select
        'bazaar_outbox_oldest_pending_seconds',
        jsonb_build_object('channel', ch.channel::text),
        coalesce(extract(epoch from now() - (
            select min(n.created_at) from core.notifications as n
            where n.channel = ch.channel and n.delivered_at is null and n.failed_at is null
        )), 0)
    from unnest(enum_range(null::core.notification_channel)) as ch (channel)
    union all
    -- dead letters: set aside after outbox_max_attempts (index_notifications_on_failed)
    select 'bazaar_outbox_failed', '{}', count(*) from core.notifications where failed_at is not null
    union all
    -- what the outbox reports counted (core.count_delivery; at most 8 rows per channel): delivered,
    -- retried and set aside per channel, and the queued-to-delivered histogram, cumulative per le
    select m.metric, jsonb_build_object('channel', ch.channel::text), m.value
    from unnest(enum_range(null::core.notification_channel)) as ch (channel)
    cross join lateral (
        select
            coalesce(sum(s.delivered), 0) as delivered, coalesce(sum(s.retried), 0) as retried,
            coalesce(sum(s.dead), 0) as dead, coalesce(sum(s.latency_seconds_sum), 0) as seconds
        from core.outbox_delivery_stats as s where s.channel = ch.channel
    ) as t
    cross join lateral (
        values
        ('bazaar_outbox_delivered_total', t.delivered::float8),
        ('bazaar_outbox_retried_total', t.retried::float8),
        ('bazaar_outbox_dead_total', t.dead::float8),
        ('bazaar_outbox_delivery_seconds_sum', t.seconds),
        ('bazaar_outbox_delivery_seconds_count', t.delivered::float8)
    ) as m (metric, value)
    union all
    select
        'bazaar_outbox_delivery_seconds_bucket',
        jsonb_build_object('channel', ch.channel::text, 'le', case when b.le = 'Infinity' then '+Inf' else b.le::text end),
        (
            select coalesce(sum(x.n), 0) from core.outbox_delivery_stats as s
            cross join lateral unnest(s.latency_buckets) with ordinality as x (n, i)
            where s.channel = ch.channel and x.i <= b.i
        )
    from unnest(enum_range(null::core.notification_channel)) as ch (channel)
    cross join unnest(core.outbox_latency_bounds() || 'Infinity'::float8) with ordinality as b (le, i)
    union all
    -- rows inserted since the statistics were reset, per partition (a partition that retention
    -- drops must not make its table's sum fall: rate() would read a reset); sum by (table) gives
    -- new listings, orders, contact clicks … per minute (the leader's counters)
    select
        'bazaar_rows_inserted_total',
        jsonb_build_object('table', coalesce(parent.relname, t.relname), 'partition', t.relname),
        t.n_tup_ins
    from pg_stat_user_tables as t
    left join pg_inherits as i on i.inhrelid = t.relid
    left join pg_class as parent on parent.oid = i.inhparent
    where
        t.schemaname = 'core'
        and coalesce(parent.relname, t.relname) in (
            'users', 'listings', 'orders', 'contact_clicks', 'notifications', 'reviews', 'chat_messages'
        )
    union all
    -- api functions: calls and seconds (track_functions = all)
    select 'bazaar_api_calls_total', jsonb_build_object('function', f.funcname), f.calls
    from pg_stat_user_functions as f where f.schemaname = 'api'
    union all
    select 'bazaar_api_seconds_total', jsonb_build_object('function', f.funcname), f.total_time / 1000
    from pg_stat_user_functions as f where f.schemaname = 'api'
$$;
comment on function monitoring.marketplace_metrics() is
'The marketplace as metric rows (name, labels, value) for the marketplace exporter: estimates from '
'planner statistics, small queues through partial indexes, counters from the statistics views.';
grant execute on function monitoring.marketplace_metrics() to bazaar_monitor;

create or replace function monitoring.integrity_violations() returns bigint
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    -- plpgsql: its body is resolved when called, so it may be created before ops' functions
    return (select coalesce(sum(v.violations), 0)::bigint from ops.integrity_violations() as v);
end
$$;
comment on function monitoring.integrity_violations() is
'How many violations of the integrity rules ops.integrity_violations() finds: the exporter asks every '
'few minutes, on a replica, with a statement_timeout of its own.';
grant execute on function monitoring.integrity_violations() to bazaar_monitor;
