-- Rebuild a key from the definition pg_get_constraintdef gave before the load.
alter table core.{table} add constraint {name} {definition}
