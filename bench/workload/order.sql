-- A buyer reserves one unit, then cancels the order.
\set p random(1, :people)
\set n random(1, :in_stock)
select o.order_id as order_id from api.create_order((select p.token from bench.people as p where p.n = :p),
                                                   (select s.id from bench.in_stock as s where s.n = :n)) as o \gset
select api.cancel_order((select p.token from bench.people as p where p.n = :p), :order_id, 'bench');
