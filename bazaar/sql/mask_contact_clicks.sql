-- Anonymous contact clicks: the masked fingerprint (one device's clicks stay one device's)
update core.contact_clicks as c set fingerprint = m.masked
from pg_temp.mask_fingerprint_map as m
where m.original = c.fingerprint
