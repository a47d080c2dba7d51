-- Parts that fit a car: make, model and year.
\set n random(1, :fitments)
select * from api.search(
    p_kind => 'part',
    p_make_id => (select f.make_id from bench.fitments as f where f.n = :n),
    p_model_id => (select f.model_id from bench.fitments as f where f.n = :n),
    p_year => (select f.year from bench.fitments as f where f.n = :n), p_limit => 20);
