-- bazaar:as-admin
-- Foundation: the four schemas, the roles, and privileges that hold by default for every
-- object later migrations create. Runs as the admin (superuser) because it creates roles;
-- every later migration runs as bazaar_owner. Roles are cluster-wide, so each is created only
-- when missing: a second database on the same server migrates too.

do $roles$
declare
    role_name text;
begin
    foreach role_name in array array['bazaar_owner', 'bazaar_app', 'bazaar_worker', 'bazaar_analyst', 'bazaar_monitor']
    loop
        if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
end
$roles$;

comment on role bazaar_owner is
'Owns every bazaar object. NOLOGIN: migrations run as an admin that SETs ROLE to it.';
comment on role bazaar_app is
'Applications: USAGE on schema api and EXECUTE on its functions; nothing on core.';
comment on role bazaar_worker is
'Delivery workers and the Telegram bot: the outbox api functions only (they see contacts and codes).';
comment on role bazaar_analyst is
'Analysts: USAGE on schema analytics and SELECT on its views.';
comment on role bazaar_monitor is
'Monitoring (postgres_exporter, the bazaar exporter): member of pg_monitor.';

grant pg_monitor to bazaar_monitor;

-- The database: nobody connects or creates unless granted; the owner may create schemas.
do $database$
begin
    execute format('revoke all on database %I from public', current_database());
    execute format('grant connect, temporary on database %I to bazaar_app, bazaar_worker, bazaar_analyst, bazaar_monitor',
                   current_database());
    execute format('grant connect, create on database %I to bazaar_owner', current_database());
end
$database$;

revoke all on schema public from public;

-- Schemas. ops already exists: the migration runner created it for ops.schema_migrations.
create schema core authorization bazaar_owner;
create schema api authorization bazaar_owner;
create schema analytics authorization bazaar_owner;
alter schema ops owner to bazaar_owner;
alter table ops.schema_migrations owner to bazaar_owner;

comment on schema core is 'Marketplace tables. Only bazaar_owner touches them; applications go through api.';
comment on schema api is
'The whole application surface: SECURITY DEFINER functions executable by bazaar_app.';
comment on schema analytics is 'Read-only views for analysts (bazaar_analyst).';
comment on schema ops is 'Maintenance: migrations bookkeeping, partitions, retention, scheduled jobs.';

revoke all on schema core, api, analytics, ops from public;
grant usage on schema api to bazaar_app, bazaar_worker;
grant usage on schema analytics to bazaar_analyst;

-- Default privileges for objects bazaar_owner creates from now on.
-- Functions are executable by PUBLIC unless revoked: revoke that everywhere, then grant the
-- api functions to applications only.
alter default privileges for role bazaar_owner revoke execute on functions from public;
alter default privileges for role bazaar_owner in schema api grant execute on functions to bazaar_app;
alter default privileges for role bazaar_owner in schema analytics grant select on tables to bazaar_analyst;
