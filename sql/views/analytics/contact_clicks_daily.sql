create or replace view analytics.contact_clicks_daily as
select
    d.day,
    l.kind::text as kind,
    section.name as category,
    sum(d.clicks) as clicks,
    count(distinct d.listing_id) as listings
from core.contact_clicks_daily as d
inner join core.listings as l on d.listing_id = l.id
inner join core.categories as c on l.category_id = c.id
inner join core.categories as section on coalesce(c.path[2], c.path[1]) = section.id
group by d.day, l.kind, section.name;
comment on view analytics.contact_clicks_daily is
'Contacts opened per day, by kind and section of the catalog (the category under the kind''s root) '
'of the listing, from the daily rollup (which outlives the click log): clicks and listings clicked.';
