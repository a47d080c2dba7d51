-- Grants that break the security model (DESIGN.md → Roles): applications reach only api, analysts
-- only analytics, nobody reaches core, ops or ext. `db verify` reports every row as a finding.
with roles (role_name) as (
    values ('bazaar_app'), ('bazaar_worker'), ('bazaar_analyst'), ('bazaar_monitor')
),
allowed_schemas (role_name, schema_name) as (
    values ('bazaar_app', 'api'), ('bazaar_worker', 'api'), ('bazaar_analyst', 'analytics')
)
select
    'schema' as kind,
    n.nspname as object_name,
    format('%s may use schema %s', r.role_name, n.nspname) as problem
from pg_namespace as n
cross join roles as r
where
    n.nspname in ('core', 'ops', 'ext', 'api', 'analytics', 'public')
    and has_schema_privilege(r.role_name, n.oid, 'usage')
    and not exists (
        select from allowed_schemas as a where a.role_name = r.role_name and a.schema_name = n.nspname
    )
union all
select
    'table',
    c.oid::regclass::text,
    format('%s has %s on it', r.role_name, a.privilege_type)
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
cross join lateral aclexplode(c.relacl) as a
inner join roles as r on a.grantee = to_regrole(r.role_name)
where
    n.nspname in ('core', 'ops', 'ext', 'api', 'analytics')
    and not (n.nspname = 'analytics' and r.role_name = 'bazaar_analyst' and a.privilege_type = 'SELECT')
union all
select
    'function',
    p.oid::regprocedure::text,
    format('%s may execute it', r.role_name)
from pg_proc as p
inner join pg_namespace as n on p.pronamespace = n.oid
cross join lateral aclexplode(p.proacl) as a
inner join roles as r on a.grantee = to_regrole(r.role_name)
where n.nspname in ('core', 'ops', 'ext', 'analytics') and a.privilege_type = 'EXECUTE'
