-- feed_first.sql on the naive schema: the category's subtree, newest first.
\set n random(1, :categories)
select l.id, l.kind, l.title, l.category_id, l.brand, l.price_amount, l.currency, l.region, l.city, l.sort_date
from naive.listings as l
where l.status = 'published' and l.category_id in (
    select c.id from naive.categories as c
    where c.path @> array[(select b.id from bench.categories as b where b.n = :n)])
order by l.sort_date desc, l.id desc
limit 20;
