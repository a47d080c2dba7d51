-- The saved-search queue: an error message may quote a saved search's text
update core.saved_search_queue as q set last_error = left(m.masked, 1000)
from pg_temp.mask_map as m
where m.kind = 'text' and m.original = q.last_error
