create or replace view analytics.outbox_daily as
select
    (n.created_at at time zone 'UTC')::date as day,
    n.channel::text as channel,
    n.kind,
    count(*) as queued,
    count(n.delivered_at) as delivered,
    count(n.failed_at) as failed,
    percentile_cont(0.5) within group (
        order by extract(epoch from n.delivered_at - n.created_at)::double precision
    ) as median_delivery_seconds
from core.notifications as n
group by 1, 2, 3;
comment on view analytics.outbox_daily is
'Notifications queued per day (UTC) by channel and kind: how many were delivered, set aside as '
'failed, and the median time from queueing to delivery (seconds).';
