-- Failed sign-ins: the identifier's address or phone masked, its prefix (email:, phone:) kept
update core.sign_in_failures as f
set identifier = coalesce(substring(f.identifier from '^(?:email|phone):'), '') || (
    select m.masked from pg_temp.mask_map as m
    where
        m.kind = case when position('@' in f.identifier) > 0 then 'email' else 'phone' end
        and m.original = regexp_replace(f.identifier, '^(?:email|phone):', '')
)
