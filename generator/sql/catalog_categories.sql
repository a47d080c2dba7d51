-- The category tree, with each category's listing lifetime in seconds.
select
    id,
    slug,
    kind::text,
    extract(epoch from listing_lifetime),
    path
from core.categories
order by id
