-- Favorite toggled on and off by a signed-in buyer.
\set p random(1, :people)
\set n random(1, :on_sale)
select api.add_favorite((select p.token from bench.people as p where p.n = :p),
                        (select s.id from bench.on_sale as s where s.n = :n));
select api.remove_favorite((select p.token from bench.people as p where p.n = :p),
                           (select s.id from bench.on_sale as s where s.n = :n));
