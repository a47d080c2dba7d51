-- Every table of schema core (partitions are filled through their parent); the loader leaves
-- out the reference tables shipped with the migrations.
select c.relname
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where n.nspname = 'core' and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname
