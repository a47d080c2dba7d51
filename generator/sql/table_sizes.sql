-- The size of each of the given core tables, its partitions' included.
select
    c.relname,
    pg_total_relation_size(c.oid)
    + coalesce((
        select sum(pg_total_relation_size(i.inhrelid))
        from pg_inherits as i
        where i.inhparent = c.oid
    ), 0)
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where n.nspname = 'core' and c.relname = any(%(tables)s)
