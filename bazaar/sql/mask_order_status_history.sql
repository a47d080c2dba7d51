-- An order's history: the reasons buyers and sellers gave; the marketplace's own stay
update core.order_status_history as h set reason = m.masked
from pg_temp.mask_map as m
where m.kind = 'text' and m.original = h.reason
