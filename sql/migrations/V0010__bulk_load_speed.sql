-- What a bulk load (the data generator, ADR 0010) showed to be slow, made fast with the same rules.

-- Checks unchanged in meaning: PostgreSQL's regex engine expands a bounded repetition such as
-- {2,255} into as many states (30 us a row for the photo key, 3 us for {2,30}); a plain + and a
-- length test take 0.4-0.6 us. It matters on the largest tables: photos, clicks, the outbox.
alter table core.listing_photos
drop constraint check_listing_photos_storage_key,
add constraint check_listing_photos_storage_key check (
    storage_key ~ '^[A-Za-z0-9][A-Za-z0-9/._-]+$' and char_length(storage_key) between 3 and 256
);
alter table core.contact_clicks
drop constraint check_contact_clicks_source,
add constraint check_contact_clicks_source check (
    source ~ '^[a-z_]+$' and char_length(source) between 2 and 30
);
alter table core.notifications
drop constraint check_notifications_kind,
add constraint check_notifications_kind check (
    kind ~ '^[a-z_]+$' and char_length(kind) between 3 and 40
);

-- The search vector, defined once: the trigger computes it row by row, a bulk load set-based.
-- No SET search_path here, on purpose: every name is schema-qualified (so no search_path can change
-- its meaning), and a SQL function without SET is inlined into the query that calls it; with SET it
-- would cost ~20 us a row of function-call overhead. STABLE, not IMMUTABLE, as concat_ws is: an
-- IMMUTABLE function whose body is less so is not inlined either.
create function core.listing_search_vector(
    p_title text, p_description text, p_brand text, p_make text, p_model text, p_part_number text
) returns tsvector
language sql
stable
parallel safe
as $$
    select pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.russian', p_title), 'A')
        operator(pg_catalog.||) pg_catalog.setweight(
            pg_catalog.to_tsvector('pg_catalog.russian', pg_catalog.concat_ws(' ', p_brand, p_make, p_model, p_part_number))
            operator(pg_catalog.||)
            pg_catalog.to_tsvector('pg_catalog.simple', pg_catalog.concat_ws(' ', p_brand, p_make, p_model, p_part_number)),
            'B')
        operator(pg_catalog.||) pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.russian', p_description), 'C')
$$;
comment on function core.listing_search_vector(text, text, text, text, text, text) is
'What full-text search reads: the title (weight A); brand, vehicle make and model and the normalised '
'part number, stemmed and unstemmed (B); the description (C). The russian configuration stems Cyrillic '
'with the Russian stemmer and ASCII with the English one.';

create or replace function core.set_listing_search_vector() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_make text;
    v_model text;
begin
    select mk.name, m.name into v_make, v_model
    from core.vehicle_models as m join core.vehicle_makes as mk on mk.id = m.make_id
    where m.id = new.model_id;
    -- (generated columns are not computed yet in a BEFORE trigger: normalise here)
    new.search_vector := core.listing_search_vector(
        new.title, new.description, new.brand, v_make, v_model, core.normalize_part_number(new.attributes ->> 'part_number')
    );
    return new;
end
$$;
