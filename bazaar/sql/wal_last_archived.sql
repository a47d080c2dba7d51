-- The newest WAL segment the archiver reports as archived.
select last_archived_wal
from pg_stat_archiver;
