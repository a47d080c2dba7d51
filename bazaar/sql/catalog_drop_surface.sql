-- The repeatable surface, dropped so that the repository's files re-create it exactly: every view
-- of api and analytics, and every routine of core, api, analytics, ops and monitoring that nothing but
-- routines and views depends on. `db migrate` runs it (then every repeatable file) in one
-- transaction, so a renamed or removed function disappears and no file needs `drop function if
-- exists <old signature>`; `db verify` runs it in a transaction it rolls back, to compare.
-- Kept, and replaced in place by their files' CREATE OR REPLACE: routines that a trigger, a
-- generated column, a constraint, an index or a default uses (dropping them would drop those).
-- Extension members are not ours to drop.
do $surface$
declare
    item text;
begin
    for item in
        select format('%s if exists %s', case c.relkind when 'v' then 'view' else 'materialized view' end,
                      c.oid::regclass)
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where
            n.nspname in ('api', 'analytics') and c.relkind in ('v', 'm')
            and not exists (
                select from pg_depend as d
                where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
            )
    loop
        -- a view may rest on another: cascade, and the files re-create both
        execute format('drop %s cascade', item);
    end loop;
    for item in
        select p.oid::regprocedure::text
        from pg_proc as p
        inner join pg_namespace as n on p.pronamespace = n.oid
        where
            n.nspname in ('core', 'api', 'analytics', 'ops', 'monitoring') and p.prokind in ('f', 'p')
            and not exists (
                select from pg_depend as d
                where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
            )
            and not exists (
                select from pg_depend as d
                where
                    d.refclassid = 'pg_proc'::regclass and d.refobjid = p.oid
                    and d.classid not in ('pg_proc'::regclass, 'pg_rewrite'::regclass)
            )
    loop
        -- restrict: should anything else depend on it, the migration stops and names it
        execute format('drop routine %s', item);
    end loop;
end
$surface$
