-- part_number.sql on the naive schema: the attribute compared without its spaces.
\set n random(1, :part_numbers)
select l.id, l.kind, l.title, l.category_id, l.brand, l.price_amount, l.currency, l.region, l.city, l.sort_date
from naive.listings as l
where l.status = 'published'
    and upper(replace(l.attributes ->> 'part_number', ' ', ''))
    = upper(replace((select p.typed from bench.part_numbers as p where p.n = :n), ' ', ''))
order by l.sort_date desc, l.id desc
limit 20;
