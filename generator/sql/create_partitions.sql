-- The monthly partitions of a partitioned table, from the given months back to three ahead.
select ops.create_monthly_partitions(%(table)s::regclass, %(months)s, 3)
