-- The indexes of the given core tables that are not a key's own index, as CREATE INDEX statements.
select
    c.relname,
    i.relname,
    pg_get_indexdef(x.indexrelid)
from pg_index as x
inner join pg_class as i on x.indexrelid = i.oid
inner join pg_class as c on x.indrelid = c.oid
inner join pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = 'core'
    and c.relname = any(%(tables)s)
    and not exists (
        select from pg_constraint as k
        where k.conindid = x.indexrelid and k.conrelid = c.oid
    )
order by c.relname, i.relname
