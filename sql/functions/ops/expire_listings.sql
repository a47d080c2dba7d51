create or replace function ops.expire_listings() returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
    v_count integer := 0;
begin
    for v_listing in
        select l.* from core.listings as l
        where l.status = 'published' and l.expires_at <= now()
        order by l.expires_at
        for update skip locked
    loop
        perform core.transition_listing(v_listing, 'expired', null, 'category lifetime reached');
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
comment on function ops.expire_listings() is
'Expire published listings past their category''s lifetime; returns how many. Scheduled on the leader.';
