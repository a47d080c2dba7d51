-- search.sql on the naive schema: ILIKE on title and description, the same filters.
\set n random(1, :search_terms)
select l.id, l.kind, l.title, l.category_id, l.brand, l.price_amount, l.currency, l.region, l.city, l.sort_date
from naive.listings as l
where l.status = 'published'
    and (l.title ilike '%' || (select s.query from bench.search_terms as s where s.n = :n) || '%'
        or l.description ilike '%' || (select s.query from bench.search_terms as s where s.n = :n) || '%')
    and l.category_id in (
        select c.id from naive.categories as c
        where c.path @> array[(select s.category_id from bench.search_terms as s where s.n = :n)])
    and lower(l.region) = lower((select s.region from bench.search_terms as s where s.n = :n))
order by l.sort_date desc, l.id desc
limit 20;
