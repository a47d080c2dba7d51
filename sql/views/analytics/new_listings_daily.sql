create or replace view analytics.new_listings_daily as
select
    (l.created_at at time zone 'UTC')::date as day,
    l.kind::text as kind,
    section.name as category,
    l.region,
    count(*) as listings
from core.listings as l
inner join core.categories as c on l.category_id = c.id
inner join core.categories as section on coalesce(c.path[2], c.path[1]) = section.id
group by 1, 2, 3, 4;
comment on view analytics.new_listings_daily is
'Listings created per day (UTC), by kind, section of the catalog (the category under the kind''s '
'root) and region, whatever their status now.';
