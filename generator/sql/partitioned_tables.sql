-- The partitioned tables of schema core: they get monthly partitions for the history and cannot
-- be copied with FREEZE.
select c.relname
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where n.nspname = 'core' and c.relkind = 'p'
order by 1
