-- What each function and view of the managed schemas looks like, as one digest per object:
-- its definition, comment, privileges and owner. `db verify` compares these before and after
-- re-creating the repeatable objects from the repository.
select
    'function' as kind,
    p.oid::regprocedure::text as identity,
    md5(concat_ws(
        E'\n', pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc'),
        p.proacl::text, pg_get_userbyid(p.proowner)
    )) as fingerprint
from pg_proc as p
inner join pg_namespace as n on p.pronamespace = n.oid
where
    n.nspname = any(%(schemas)s)
    and p.prokind in ('f', 'p')
    and not exists (
        select from pg_depend as d
        where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
    )
union all
select
    case c.relkind when 'v' then 'view' else 'materialized view' end,
    c.oid::regclass::text,
    md5(concat_ws(
        E'\n', pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class'),
        c.relacl::text, pg_get_userbyid(c.relowner)
    ))
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(%(schemas)s)
    and c.relkind in ('v', 'm')
    and not exists (
        select from pg_depend as d
        where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
    )
