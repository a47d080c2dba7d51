-- When the newest successful verification of a backup finished (the schedule's verify job).
select max(finished_at)
from ops.backup_runs
where kind = 'verify' and succeeded;
