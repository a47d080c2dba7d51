-- The vehicle models with their make and the production years of each generation (a generation
-- still in production ends in 2100).
select
    m.id,
    mk.name,
    m.name,
    array_agg(array[g.year_from, coalesce(g.year_to, 2100)] order by g.id)
from core.vehicle_models as m
inner join core.vehicle_makes as mk on m.make_id = mk.id
inner join core.vehicle_generations as g on m.id = g.model_id
group by m.id, mk.name
order by m.id
