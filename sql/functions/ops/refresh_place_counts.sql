create or replace function ops.refresh_place_counts() returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer;
begin
    -- one statement's snapshot: readers see the old counts or the new ones, never half
    delete from core.place_counts;
    insert into core.place_counts (kind, region, city, listings)
    select l.kind, l.region, l.city, count(*)
    from core.listings as l
    where l.status = 'published' and not l.seller_blocked
    group by l.kind, l.region, l.city;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
comment on function ops.refresh_place_counts() is
'Count the listings on sale by kind, region and city into core.place_counts (pg_cron, every 10 minutes, '
'on the leader); returns how many places.';
