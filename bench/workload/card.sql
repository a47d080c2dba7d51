-- A listing page: the card of a public listing (anonymous).
\set n random(1, :cards)
select * from api.listing_card((select c.id from bench.cards as c where c.n = :n));
