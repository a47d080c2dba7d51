create or replace view analytics.contact_clicks_daily as
select
    d.day,
    l.kind::text as kind,
    coalesce(parent.name, c.name) as category,
    sum(d.clicks) as clicks,
    count(distinct d.listing_id) as listings
from core.contact_clicks_daily as d
inner join core.listings as l on d.listing_id = l.id
inner join core.categories as c on l.category_id = c.id
left join core.categories as parent on c.parent_id = parent.id
group by d.day, l.kind, coalesce(parent.name, c.name);
comment on view analytics.contact_clicks_daily is
'Contacts opened per day, by kind and top-level category of the listing, from the daily rollup '
'(which outlives the click log): clicks and listings clicked.';
