-- Full-text search with filters: a word of a real title, within its top category and region.
\set n random(1, :search_terms)
select * from api.search(
    p_query => (select s.query from bench.search_terms as s where s.n = :n),
    p_category_id => (select s.category_id from bench.search_terms as s where s.n = :n),
    p_region => (select s.region from bench.search_terms as s where s.n = :n), p_limit => 20);
