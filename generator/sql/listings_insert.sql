-- The staged listings into core.listings with their search vectors (columns composed in by the
-- caller), the per-row trigger off for this one statement: it would compute them again, 135 us a
-- row. Both helper tables go.
alter table core.listings disable trigger listings_set_search_vector;

insert into core.listings ({columns}, search_vector) overriding system value
select
    {staged},
    v.search_vector
from pg_temp.listings_staged as s
inner join ops.generator_listing_vectors as v on s.id = v.id
order by s.id;

alter table core.listings enable trigger listings_set_search_vector;

drop table pg_temp.listings_staged, ops.generator_listing_vectors;
