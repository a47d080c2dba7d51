-- Every table of the marketplace's schemas that holds data (partitions, not their parents).
select format('%I.%I', n.nspname, c.relname) as table_name
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where n.nspname in ('core', 'ops') and c.relkind = 'r'
order by 1;
