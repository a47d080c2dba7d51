create or replace view analytics.moderation_daily as
with events as (
    select
        (h.changed_at at time zone 'UTC')::date as day,
        'submitted' as event,
        null::double precision as waited_seconds
    from core.listing_status_history as h
    where h.to_status = 'pending'
    union all
    select
        (h.changed_at at time zone 'UTC')::date as day,
        case when h.to_status = 'published' then 'approved' else 'rejected' end as event,
        extract(epoch from h.changed_at - submitted.changed_at)::double precision as waited_seconds
    from core.listing_status_history as h
    cross join
        lateral (
            select p.changed_at
            from core.listing_status_history as p
            where p.listing_id = h.listing_id and p.id < h.id and p.to_status = 'pending'
            order by p.id desc
            limit 1
        ) as submitted
    where h.from_status = 'pending' and h.to_status in ('published', 'rejected')
)

select
    day,
    count(*) filter (where event = 'submitted') as submitted,
    count(*) filter (where event = 'approved') as approved,
    count(*) filter (where event = 'rejected') as rejected,
    percentile_cont(0.5) within group (order by waited_seconds) as median_wait_seconds,
    max(waited_seconds) as longest_wait_seconds
from events
group by day;
comment on view analytics.moderation_daily is
'The moderation flow per day (UTC): listings submitted for review, approved and rejected, and how '
'long the decided ones had waited since they were submitted (median and longest, seconds).';
