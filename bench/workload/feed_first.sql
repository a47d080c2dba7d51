-- A category's feed, first page (newest first).
\set n random(1, :categories)
select * from api.search(p_category_id => (select c.id from bench.categories as c where c.n = :n), p_limit => 20);
