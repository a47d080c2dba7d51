create or replace view analytics.top_tags_per_category as
select
    ranked.category_id,
    ranked.category,
    ranked.tag,
    ranked.listings,
    ranked.rank
from (
    select
        c.id as category_id,
        c.name as category,
        t.name as tag,
        count(*) as listings,
        rank() over (partition by c.id order by count(*) desc, t.name) as rank
    from core.listing_tags as lt
    inner join core.tags as t on lt.tag_id = t.id
    inner join core.listings as l on lt.listing_id = l.id
    inner join core.categories as c on l.category_id = c.id
    where l.status in ('published', 'reserved', 'sold')
    group by c.id, c.name, t.name
) as ranked
where ranked.rank <= 20;
comment on view analytics.top_tags_per_category is
'The 20 most used tags of each category (listings on sale or sold, counted once per listing), '
'ranked; ties broken by name.';
