-- bazaar:as-admin
-- Every object of the bazaar schemas belongs to bazaar_owner, whoever created it. Partitions made
-- by the data generator and by the scheduled partition job (both as the admin) belonged to the
-- admin, so the first migration to alter a partitioned table failed on any loaded database
-- ("must be owner of table contact_clicks_2025_10"). From now on ops.create_monthly_partitions
-- hands each partition it creates to bazaar_owner, and `bazaar db verify` reports any object with
-- another owner.
do $owners$
declare
    item record;
begin
    for item in
        select format('%s %s', case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                                              when 'S' then 'sequence' when 'f' then 'foreign table'
                                              else 'table' end, c.oid::regclass) as object
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where
            n.nspname in ('core', 'api', 'analytics', 'ops')
            and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
            and c.relowner <> 'bazaar_owner'::regrole
            -- an identity sequence follows its table
            and not (c.relkind = 'S' and exists (
                select from pg_depend as d where d.classid = 'pg_class'::regclass and d.objid = c.oid
                    and d.deptype in ('a', 'i')
            ))
        union all
        select format('routine %s', p.oid::regprocedure)
        from pg_proc as p
        inner join pg_namespace as n on p.pronamespace = n.oid
        where
            n.nspname in ('core', 'api', 'analytics', 'ops') and p.proowner <> 'bazaar_owner'::regrole
            and not exists (select from pg_depend as d where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                            and d.deptype = 'e')
        union all
        select format('type %s', t.oid::regtype)
        from pg_type as t
        inner join pg_namespace as n on t.typnamespace = n.oid
        where
            n.nspname in ('core', 'api', 'analytics', 'ops') and t.typtype in ('e', 'd', 'c')
            and t.typowner <> 'bazaar_owner'::regrole
            and (t.typrelid = 0 or (select c.relkind from pg_class as c where c.oid = t.typrelid) = 'c')
    loop
        execute format('alter %s owner to bazaar_owner', item.object);
    end loop;
end
$owners$;
