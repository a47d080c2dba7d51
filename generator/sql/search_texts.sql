-- The listings' texts as the generator describes them, before the listings themselves. Unlogged,
-- not temporary: the parallel workers computing the vectors must read it. part_number is
-- normalised by a generated column, so that core.listing_search_vector gets a plain column and
-- the planner can inline it (an expensive argument used twice would prevent that).
create unlogged table ops.generator_listing_texts (
    id bigint,
    title text,
    description text,
    brand text,
    model_id bigint,
    part_number text,
    normalized text generated always as (core.normalize_part_number(part_number)) stored
)
