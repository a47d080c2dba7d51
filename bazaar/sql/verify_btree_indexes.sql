-- Every B-tree index of the marketplace's schemas that holds data (a partitioned table's
-- index is only its partitions' ones), for amcheck.
select format('%I.%I', n.nspname, c.relname) as index_name
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
inner join pg_am as a on c.relam = a.oid
where n.nspname in ('core', 'ops') and c.relkind = 'i' and a.amname = 'btree'
order by 1;
