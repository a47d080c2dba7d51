-- What the masking refuses to run on: a server in recovery, a server that standbys stream from (the
-- live cluster's leader, never a restored copy), a session that is not a superuser's.
select
    pg_is_in_recovery() as in_recovery,
    (select count(*) from pg_stat_replication) as standbys,
    current_setting('is_superuser') = 'on' as superuser,
    current_database() as database
