-- Close the current WAL segment (archiving takes it at once); the name of the segment closed.
select pg_walfile_name(pg_switch_wal());
