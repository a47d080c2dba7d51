-- Indexes of the managed schemas a failed CREATE INDEX CONCURRENTLY left invalid (bazaar/migrate.py):
-- PostgreSQL keeps them, maintains them on every write and never uses them.
select c.oid::regclass::text as index_name
from pg_catalog.pg_index as i
inner join pg_catalog.pg_class as c on i.indexrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where not i.indisvalid and n.nspname = any(%(schemas)s)
order by 1
