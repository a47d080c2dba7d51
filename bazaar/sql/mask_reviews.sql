-- Reviews of sellers: texts of about their length
update core.reviews as r set body = m.masked
from pg_temp.mask_map as m
where m.kind = 'text' and m.original = r.body
