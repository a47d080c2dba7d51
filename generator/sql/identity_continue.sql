-- Move a table's identity past the ids the generator gave.
select setval(%(sequence)s, coalesce(max(id), 0) + 1, false) from core.{table}
