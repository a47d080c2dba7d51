-- The audit log (its append-only trigger is off in replica mode: see mask_setup.sql): the reasons
-- staff gave, and the personal values of details by the key rules of scope details, one nested
-- level included (why a user had been blocked, the contact a moderator edited), each value through
-- the map. Only rows that change are written. (A reason is at most 500 characters for rows written
-- since V0013; older ones may be longer, their masks are cut.)
update core.audit_log as a set
    reason = x.reason,
    details = x.details
from (
    select
        c.id,
        c.created_at,
        coalesce(left(r.masked, 500), c.reason) as reason,
        coalesce((
            select jsonb_object_agg(e.key, case
                when k.kind = 'object' and jsonb_typeof(e.value) = 'object' then (
                    select jsonb_object_agg(n.key, coalesce(to_jsonb(nm.masked), n.value))
                    from jsonb_each(e.value) as n
                    left join pg_temp.mask_json_keys as nk on nk.scope = 'details' and n.key = nk.key
                    left join pg_temp.mask_map as nm
                        on
                            nk.kind = nm.kind and n.value #>> '{}' = nm.original
                            and jsonb_typeof(n.value) = 'string'
                )
                else coalesce(to_jsonb(m.masked), e.value)
            end)
            from jsonb_each(c.details) as e
            left join pg_temp.mask_json_keys as k on k.scope = 'details' and e.key = k.key
            left join pg_temp.mask_map as m
                on m.kind = k.kind and e.value #>> '{}' = m.original and jsonb_typeof(e.value) = 'string'
            where c.details ?| %(details_keys)s::text [] and jsonb_typeof(c.details) = 'object'
        ), c.details) as details
    from core.audit_log as c
    left join pg_temp.mask_map as r on r.kind = 'text' and c.reason = r.original
    where r.original is not null or c.details ?| %(details_keys)s::text []
) as x
where
    a.id = x.id and a.created_at = x.created_at
    and (a.reason is distinct from x.reason or a.details <> x.details)
