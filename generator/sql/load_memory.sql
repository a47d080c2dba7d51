-- Memory for the index builds of this load's transaction (one sort per index).
set local maintenance_work_mem = '512MB'
