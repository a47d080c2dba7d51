-- The timeline the primary writes on now (a failover or a promotion starts a new one; the
-- control file learns it only at the next checkpoint, the name of the current WAL file at once).
select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::integer as timeline_id;
