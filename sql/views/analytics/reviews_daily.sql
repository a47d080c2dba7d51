create or replace view analytics.reviews_daily as
select
    (r.created_at at time zone 'UTC')::date as day,
    r.rating,
    count(*) as reviews
from core.reviews as r
group by 1, 2;
comment on view analytics.reviews_daily is
'Reviews of sellers written per day (UTC), by rating (1-5).';
