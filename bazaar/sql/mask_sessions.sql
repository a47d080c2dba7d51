-- Session tokens: a random SHA-256 for each (no token opens them; sign in with the staging password)
update core.sessions as s set token_hash = ext.gen_random_bytes(32)
