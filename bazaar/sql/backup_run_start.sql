-- A backup, verification, restore or staging run begins (bazaar/backup/operations.py).
insert into ops.backup_runs (kind, backup_type)
values (%(kind)s, %(type)s)
returning id;
