-- Which JSON keys hold which kind of personal value (bazaar/backup/mask.py)
insert into pg_temp.mask_json_keys (scope, key, kind)
select
    r.scope,
    r.key,
    r.kind
from unnest(%(rule_scopes)s::text [], %(rule_keys)s::text [], %(rule_kinds)s::text []) as r (scope, key, kind)
