-- Grants and owners that break the security model (docs/conventions.md): applications reach only
-- api, analysts only analytics, nobody reaches core, ops or ext, and bazaar_owner owns every object.
-- `db verify` reports every row as a finding.
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
union all
-- every object of the bazaar schemas belongs to bazaar_owner (V0011): another owner means the next
-- migration that alters it fails ("must be owner of table …")
select
    case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
        when 'i' then 'index' when 'I' then 'index' else 'table' end,
    c.oid::regclass::text,
    format('owned by %s, not bazaar_owner', pg_get_userbyid(c.relowner))
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname in ('core', 'api', 'analytics', 'ops')
    and c.relowner <> to_regrole('bazaar_owner')
union all
select
    'function',
    p.oid::regprocedure::text,
    format('owned by %s, not bazaar_owner', pg_get_userbyid(p.proowner))
from pg_proc as p
inner join pg_namespace as n on p.pronamespace = n.oid
where
    n.nspname in ('core', 'api', 'analytics', 'ops')
    and p.proowner <> to_regrole('bazaar_owner')
    and not exists (
        select from pg_depend as d
        where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
    )
