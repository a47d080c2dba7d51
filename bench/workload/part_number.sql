-- A part-number lookup, typed with spaces as on the box.
\set n random(1, :part_numbers)
select * from api.search(p_query => (select p.typed from bench.part_numbers as p where p.n = :n), p_limit => 20);
