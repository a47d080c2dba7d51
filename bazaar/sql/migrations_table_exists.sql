-- Whether the runner's bookkeeping exists yet (not before the first migrate).
select to_regclass('ops.schema_migrations') is not null
