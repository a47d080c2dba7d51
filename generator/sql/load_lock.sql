-- One load at a time: true when this transaction holds the generator's lock, false at once when
-- another load does.
select pg_try_advisory_xact_lock(hashtextextended('bazaar generate', 0))
