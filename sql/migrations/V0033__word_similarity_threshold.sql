-- bazaar:as-admin
-- The typo-tolerant search (issue 17, docs/adr/0006-search.md) matches a query against the title's
-- best words with pg_trgm's %> operator, whose threshold is a setting: 0.5 for this database, so a
-- word one letter off ("колотки" for "колодки" scores 0.5) is found; pg_trgm's default is 0.6. Set
-- on the database (sessions pick it up when they start) because a function's SET clause cannot
-- name a setting of an extension library not loaded yet.
do $threshold$
begin
    execute format('alter database %I set pg_trgm.word_similarity_threshold = 0.5', current_database());
end
$threshold$;
