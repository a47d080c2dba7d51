create or replace view analytics.active_listings as
select
    l.kind::text as kind,
    section.name as category,
    l.region,
    count(*) as listings,
    round(avg(l.price_amount) / 100.0, 2) as average_price,
    l.currency
from core.listings as l
inner join core.categories as c on l.category_id = c.id
inner join core.categories as section on coalesce(c.path[2], c.path[1]) = section.id
where l.status = 'published' and not l.seller_blocked
group by l.kind, section.name, l.region, l.currency;
comment on view analytics.active_listings is
'Listings on sale now (their seller not blocked), by kind, section of the catalog (the category under '
'the kind''s root), region and currency, with their average price (major units).';
