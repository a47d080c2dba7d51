-- Changes waiting for (or given) moderation: the personal values of changes by the key rules of
-- scope details (a new contact name or phone), each through the map, and the reasons moderators
-- wrote. Only rows that change are written.
update core.listing_revisions as r set
    changes = x.changes,
    reason = x.reason
from (
    select
        c.id,
        coalesce((
            select jsonb_object_agg(e.key, coalesce(to_jsonb(m.masked), e.value))
            from jsonb_each(c.changes) as e
            left join pg_temp.mask_json_keys as k on k.scope = 'details' and e.key = k.key
            left join pg_temp.mask_map as m
                on m.kind = k.kind and e.value #>> '{}' = m.original and jsonb_typeof(e.value) = 'string'
        ), c.changes) as changes,
        coalesce(t.masked, c.reason) as reason
    from core.listing_revisions as c
    left join pg_temp.mask_map as t on t.kind = 'text' and c.reason = t.original
    where c.changes ?| %(details_keys)s::text [] or t.original is not null
) as x
where r.id = x.id and (r.changes <> x.changes or r.reason is distinct from x.reason)
