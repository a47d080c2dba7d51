-- Saved searches: the name and the text someone typed. The text stays what api.save_search stores
-- (core.search_text, its check): lower-case words without punctuation. The filters stay.
update core.saved_searches as s set
    name = left((
        select m.masked from pg_temp.mask_map as m
        where m.kind = 'text' and m.original = s.name
    ), 80),
    query = core.search_text(left(regexp_replace(lower(
        (select m.masked from pg_temp.mask_map as m where m.kind = 'text' and m.original = s.query)
    ), '[^[:alnum:][:space:]]+', ' ', 'g'), 200))
