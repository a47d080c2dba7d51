-- The per-table digests the first successful verification of a backup recorded: a later
-- verification of the same backup must find the same rows.
select detail -> 'tables'
from ops.backup_runs
where kind = 'verify' and succeeded and label = %(label)s
order by id
limit 1;
