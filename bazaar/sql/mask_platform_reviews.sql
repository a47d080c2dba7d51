-- Reviews of the marketplace: texts of about their length
update core.platform_reviews as r set body = m.masked
from pg_temp.mask_map as m
where m.kind = 'text' and m.original = r.body
