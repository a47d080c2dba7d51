-- The search vectors of the copied texts, by V0010's core.listing_search_vector (the trigger's own
-- definition), set-based and in parallel; core.listings takes them from
-- ops.generator_listing_vectors.
analyze ops.generator_listing_texts;

create unlogged table ops.generator_listing_vectors as
select
    t.id,
    core.listing_search_vector(t.title, t.description, t.brand, mk.name, m.name, t.normalized)
    as search_vector
from ops.generator_listing_texts as t
left join core.vehicle_models as m on t.model_id = m.id
left join core.vehicle_makes as mk on m.make_id = mk.id;

drop table ops.generator_listing_texts;
