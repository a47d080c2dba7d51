-- Password reset codes: the identifier's address or phone masked (its prefix kept), every code's
-- hash the staging code's
update core.password_reset_codes as r
set
    identifier = substr(r.identifier, 1, 6) || (
        select m.masked from pg_temp.mask_map as m
        where
            m.kind = case when r.identifier like 'email:%%' then 'email' else 'phone' end
            and m.original = substr(r.identifier, 7)
    ),
    code_hash = %(code_hash)s
