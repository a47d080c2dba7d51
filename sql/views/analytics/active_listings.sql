create or replace view analytics.active_listings as
select
    l.kind::text as kind,
    coalesce(parent.name, c.name) as category,
    l.region,
    count(*) as listings,
    round(avg(l.price_amount) / 100.0, 2) as average_price,
    l.currency
from core.listings as l
inner join core.categories as c on l.category_id = c.id
left join core.categories as parent on c.parent_id = parent.id
where l.status = 'published'
group by l.kind, coalesce(parent.name, c.name), l.region, l.currency;
comment on view analytics.active_listings is
'Listings on sale now, by kind, top-level category, region and currency, with their average price '
'(major units).';
