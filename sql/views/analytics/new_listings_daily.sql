create or replace view analytics.new_listings_daily as
select
    (l.created_at at time zone 'UTC')::date as day,
    l.kind::text as kind,
    coalesce(parent.name, c.name) as category,
    l.region,
    count(*) as listings
from core.listings as l
inner join core.categories as c on l.category_id = c.id
left join core.categories as parent on c.parent_id = parent.id
group by 1, 2, 3, 4;
comment on view analytics.new_listings_daily is
'Listings created per day (UTC), by kind, top-level category and region, whatever their status now.';
