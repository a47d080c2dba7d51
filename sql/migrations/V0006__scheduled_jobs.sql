-- bazaar:as-admin
-- Scheduled maintenance with pg_cron (a superuser creates the extension and the jobs). pg_cron
-- runs jobs only on a server that is not in recovery, so on a Patroni cluster they run on the
-- leader alone and follow it after a failover (the cron tables replicate with the database).
-- pg_cron works in the one database named by cron.database_name: elsewhere (a second
-- database on the same server, say) this migration schedules nothing and says so.
do $jobs$
begin
    if current_setting('cron.database_name', true) is distinct from current_database() then
        raise notice 'pg_cron is not set up for database % (cron.database_name = %): no jobs scheduled',
            current_database(), coalesce(current_setting('cron.database_name', true), 'unset');
        return;
    end if;
    create extension if not exists pg_cron;
    perform cron.schedule('bazaar-expire-reservations', '* * * * *', 'select ops.expire_reservations()');
    perform cron.schedule('bazaar-expire-listings', '17 * * * *', 'select ops.expire_listings()');
    perform cron.schedule('bazaar-maintain-partitions', '23 3 * * *', 'select ops.maintain_partitions()');
end
$jobs$;
