-- fitment.sql on the naive schema: parts joined to their fitment rows.
\set n random(1, :fitments)
select distinct on (l.sort_date, l.id) l.id, l.kind, l.title, l.category_id, l.brand, l.price_amount, l.currency,
    l.region, l.city, l.sort_date
from naive.listings as l
join naive.part_fitments as f on f.listing_id = l.id
where l.status = 'published' and l.kind = 'part'
    and f.model_id = (select b.model_id from bench.fitments as b where b.n = :n)
    and (select b.year from bench.fitments as b where b.n = :n) between f.year_from and f.year_to
order by l.sort_date desc, l.id desc
limit 20;
