-- A seller's page: their listings on sale.
\set n random(1, :sellers)
select * from api.seller_listings((select s.id from bench.sellers as s where s.n = :n), null, 20);
