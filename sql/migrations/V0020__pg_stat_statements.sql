-- bazaar:as-admin
-- pg_stat_statements (contrib): the cost of each normalised statement, for the monitoring's top
-- statements (monitoring/postgres-exporter/queries.yaml, docs/adr/0013-metrics-and-alerts.md).
-- In a schema of its own that only bazaar_monitor may use: nobody else reaches ext or public.
-- bazaar_owner owns it: the functions the monitoring calls live there too (sql/functions/monitoring).
create schema if not exists monitoring authorization bazaar_owner;
comment on schema monitoring is
'What the monitoring reads (role bazaar_monitor only): pg_stat_statements, and the functions that '
'turn the marketplace into metrics cheaply.';
create extension if not exists pg_stat_statements with schema monitoring;
revoke all on schema monitoring from public;
grant usage on schema monitoring to bazaar_monitor;
