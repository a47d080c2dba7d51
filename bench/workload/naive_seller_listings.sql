-- seller_listings.sql on the naive schema.
\set n random(1, :sellers)
select l.id, l.title, l.price_amount, l.currency, l.city, l.sort_date
from naive.listings as l
where l.seller_id = (select s.id from bench.sellers as s where s.n = :n) and l.status = 'published'
order by l.sort_date desc, l.id desc
limit 20;
