-- Links to connect Telegram: a random hash for each (no link opens them), and a used link's chat
-- the masked chat id of its account (the same formula as mask_users.sql)
update core.telegram_link_tokens as t set
    token_hash = ext.gen_random_bytes(32),
    chat_id = case
        when t.chat_id is not null
            then 1000000000000000 + mod(t.user_id * 387420489 + %(seed)s::bigint * 104729, 1000000000)
    end
