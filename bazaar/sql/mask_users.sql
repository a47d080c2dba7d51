-- Every account: the masked name, e-mail address, phone and sign-up fingerprint, a Telegram chat
-- id from 10^15 on (Telegram has issued none that high; the generator's are about 4 x 10^8; a
-- bijection of the id, so unique), the staging password's hash, the block reason masked. NULL
-- stays NULL.
update core.users as u set
    display_name = (
        select m.masked from pg_temp.mask_map as m
        where m.kind = 'name' and m.original = u.display_name
    ),
    email = (select m.masked from pg_temp.mask_map as m where m.kind = 'email' and m.original = u.email),
    phone = (select m.masked from pg_temp.mask_map as m where m.kind = 'phone' and m.original = u.phone),
    telegram_chat_id = case
        when u.telegram_chat_id is not null
            then 1000000000000000 + mod(u.id * 387420489 + %(seed)s::bigint * 104729, 1000000000)
    end,
    password_hash = %(password_hash)s,
    blocked_reason = coalesce((
        select m.masked from pg_temp.mask_map as m
        where m.kind = 'text' and m.original = u.blocked_reason
    ), u.blocked_reason),
    signup_fingerprint = (
        select m.masked from pg_temp.mask_fingerprint_map as m where m.original = u.signup_fingerprint
    )
