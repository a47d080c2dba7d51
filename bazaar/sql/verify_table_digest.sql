-- A table's rows and an order-free digest of them ({table} is a name from verify_tables):
-- the same rows give the same digest whatever their physical order.
select
    count(*) as row_count,
    coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text as digest
from {table} as t;
