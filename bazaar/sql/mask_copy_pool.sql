copy pg_temp.mask_pool (pool, i, value) from stdin
