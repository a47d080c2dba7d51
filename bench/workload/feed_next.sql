-- A category's feed, a later page: the keyset cursor a previous page handed out.
\set n random(1, :feed_cursors)
select * from api.search(
    p_category_id => (select f.category_id from bench.feed_cursors as f where f.n = :n),
    p_cursor => (select f.cursor from bench.feed_cursors as f where f.n = :n), p_limit => 20);
