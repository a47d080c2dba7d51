-- Listings: the contact name and phone someone typed, and the moderator's rejection reason. Title,
-- description and the rest are what the marketplace shows everyone: kept (and with them the search
-- vector and the channel posts, which the integrity checks compare with them).
update core.listings as l set
    contact_name = (
        select m.masked from pg_temp.mask_map as m
        where m.kind = 'name' and m.original = l.contact_name
    ),
    contact_phone = (
        select m.masked from pg_temp.mask_map as m
        where m.kind = 'phone' and m.original = l.contact_phone
    ),
    rejection_reason = coalesce((
        select m.masked from pg_temp.mask_map as m
        where m.kind = 'text' and m.original = l.rejection_reason
    ), l.rejection_reason)
where
    l.contact_name is not null
    or l.contact_phone is not null
    or (l.rejection_reason is not null and l.rejection_reason <> all(%(kept_texts)s::text []))
