-- When the newest successful verification of each repository finished (the schedule's verify
-- job runs per repository; a verification of an outside copy of one is not counted).
select
    (detail ->> 'repo')::integer as repo,
    max(finished_at) as finished_at
from ops.backup_runs
where kind = 'verify' and succeeded and detail ? 'repo'
group by 1;
