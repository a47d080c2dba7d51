-- What full-text search reads, and the part number as compared. A generated column of
-- core.listings uses normalize_part_number and a trigger set_listing_search_vector: migrate keeps
-- both in place (replacing their bodies) when it re-creates the surface.

create or replace function core.normalize_part_number(p_value text) returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
return nullif(upper(regexp_replace(p_value, '[^0-9A-Za-z]', '', 'g')), '');
comment on function core.normalize_part_number(text) is
'A part number as compared: letters and digits only, upper case (0 986 494 294 and 0986494294 are equal).';

-- The search vector, defined once: the trigger computes it row by row, a bulk load set-based.
-- No SET search_path here, on purpose: every name is schema-qualified (so no search_path can change
-- its meaning), and a SQL function without SET is inlined into the query that calls it; with SET it
-- would cost ~20 us a row of function-call overhead. STABLE, not IMMUTABLE, as concat_ws is: an
-- IMMUTABLE function whose body is less so is not inlined either.
create or replace function core.listing_search_vector(
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
comment on function core.set_listing_search_vector() is
'Trigger: keep core.listings.search_vector in step with the row (core.listing_search_vector).';
