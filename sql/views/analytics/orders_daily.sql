create or replace view analytics.orders_daily as
select
    (o.created_at at time zone 'UTC')::date as day,
    o.status::text as status,
    o.currency,
    count(*) as orders,
    sum(o.total_amount) / 100.0 as amount
from core.orders as o
group by 1, 2, 3;
comment on view analytics.orders_daily is
'Orders placed per day (UTC) by their status now and currency: count and amount in major units '
'(the paid ones are the revenue).';
