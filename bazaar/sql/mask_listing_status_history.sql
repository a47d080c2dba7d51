-- A listing's history: the reasons moderators wrote; the marketplace's own ("stock sold out") stay
update core.listing_status_history as h set reason = m.masked
from pg_temp.mask_map as m
where m.kind = 'text' and m.original = h.reason
