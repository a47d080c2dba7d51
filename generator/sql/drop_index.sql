-- Drop an index for the load (its definition is kept and rebuilt afterwards).
drop index core.{name}
