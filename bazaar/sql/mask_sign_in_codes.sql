-- Sign-in codes: the masked phone, and every code's hash the staging code's
update core.sign_in_codes as c set
    phone = (select m.masked from pg_temp.mask_map as m where m.kind = 'phone' and m.original = c.phone),
    code_hash = %(code_hash)s
