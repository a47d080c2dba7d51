-- Whether WAL archiving fails now: the newest attempt failed (the archiver retries a failing
-- segment every minute, so a persistent failure keeps last_failed_time fresh) and recently.
select
    coalesce(
        last_failed_time > coalesce(last_archived_time, '-infinity')
        and last_failed_time > now() - interval '5 minutes',
        false
    ) as failing,
    last_failed_wal
from pg_stat_archiver;
