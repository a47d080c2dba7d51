-- A buyer writes to the seller in a listing's chat.
\set p random(1, :people)
\set n random(1, :on_sale)
select api.post_message((select p.token from bench.people as p where p.n = :p),
                        (select s.id from bench.on_sale as s where s.n = :n), 'Добрый день, ещё продаётся?');
