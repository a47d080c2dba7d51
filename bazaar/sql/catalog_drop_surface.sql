-- Inside `db verify`'s rolled-back transaction only: drop every function and view of the
-- public surfaces (api, analytics), so that re-creating them from the repository shows any
-- object that exists in the database but in no repository file.
do $verify$
declare
    routines text[];
    relations text[];
    item text;
begin
    select coalesce(array_agg(p.oid::regprocedure::text), '{}')
    into routines
    from pg_proc as p
    inner join pg_namespace as n on p.pronamespace = n.oid
    where n.nspname in ('api', 'analytics') and p.prokind in ('f', 'p')
        and not exists (select from pg_depend as d
                        where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e');
    select coalesce(array_agg(format('%s %s', case c.relkind when 'v' then 'view'
                                                              else 'materialized view' end,
                                      c.oid::regclass::text)), '{}')
    into relations
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where n.nspname in ('api', 'analytics') and c.relkind in ('v', 'm')
        and not exists (select from pg_depend as d
                        where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e');
    foreach item in array relations loop
        execute format('drop %s cascade', regexp_replace(item, '^(view|materialized view) ', '\1 if exists '));
    end loop;
    foreach item in array routines loop
        execute format('drop routine if exists %s cascade', item);
    end loop;
end
$verify$
