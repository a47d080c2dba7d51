-- Drop a key for the load (its definition is kept and rebuilt afterwards).
alter table core.{table} drop constraint {name}
