-- feed_next.sql on the naive schema: the same page by OFFSET, as an ORM paginates.
\set n random(1, :feed_cursors)
select l.id, l.kind, l.title, l.category_id, l.brand, l.price_amount, l.currency, l.region, l.city, l.sort_date
from naive.listings as l
where l.status = 'published' and l.category_id in (
    select c.id from naive.categories as c
    where c.path @> array[(select f.category_id from bench.feed_cursors as f where f.n = :n)])
order by l.sort_date desc, l.id desc
limit 20 offset (select f.skipped from bench.feed_cursors as f where f.n = :n);
