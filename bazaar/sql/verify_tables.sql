-- The marketplace's tables as queried (a partitioned table once, with its partitions).
select format('%I.%I', n.nspname, c.relname) as table_name
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where n.nspname = 'core' and c.relkind in ('r', 'p') and not c.relispartition
order by 1;
