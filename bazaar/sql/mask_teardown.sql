-- What the masking made goes with its transaction (the tables would at commit anyway)
drop function pg_temp.mask_cut(text, integer);

drop function pg_temp.mask_slot(text, bigint, integer);

drop table pg_temp.mask_pool, pg_temp.mask_passages, pg_temp.mask_json_keys, pg_temp.mask_map,
pg_temp.mask_fingerprint_map, pg_temp.mask_json_strings;

-- back to normal for the rest of a transaction the caller may have open
set local session_replication_role = origin
