-- The primary, unique and foreign keys of the given core tables, as the catalog defines them
-- (the referenced table of a foreign key too); keys inherited by partitions come with their parent.
select
    c.relname,
    k.conname,
    k.contype::text,
    pg_get_constraintdef(k.oid),
    coalesce(r.relname, '')
from pg_constraint as k
inner join pg_class as c on k.conrelid = c.oid
inner join pg_namespace as n on c.relnamespace = n.oid
left join pg_class as r on k.confrelid = r.oid
where
    n.nspname = 'core'
    and c.relname = any(%(tables)s)
    and k.contype in ('p', 'u', 'f')
    and k.conparentid = 0
order by c.relname, k.conname
