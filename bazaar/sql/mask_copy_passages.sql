copy pg_temp.mask_passages (n, body) from stdin
