-- The outbox: the personal values of payloads (a sign-in code, a phone, a seller's message, a saved
-- search's name, a reason someone gave), by the key rules of scope payload, each value through the
-- map. Channel posts carry listings as everyone sees them: no rule matches their keys. Only rows
-- whose payload changes are written (an order's null reason is no reason to rewrite it).
update core.notifications as n set payload = x.payload
from (
    select
        c.id,
        c.created_at,
        jsonb_object_agg(e.key, coalesce(to_jsonb(m.masked), e.value)) as payload
    from core.notifications as c
    cross join lateral jsonb_each(c.payload) as e
    left join pg_temp.mask_json_keys as k on k.scope = 'payload' and e.key = k.key
    left join pg_temp.mask_map as m
        on k.kind = m.kind and e.value #>> '{}' = m.original and jsonb_typeof(e.value) = 'string'
    where c.payload ?| %(payload_keys)s::text [] and jsonb_typeof(c.payload) = 'object'
    group by c.id, c.created_at
) as x
where n.id = x.id and n.created_at = x.created_at and n.payload <> x.payload
