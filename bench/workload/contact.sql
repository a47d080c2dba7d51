-- A signed-in buyer opens a seller's contacts from the card.
\set p random(1, :people)
\set n random(1, :on_sale)
select * from api.open_contacts((select s.id from bench.on_sale as s where s.n = :n),
                                (select p.token from bench.people as p where p.n = :p), null, 'card');
