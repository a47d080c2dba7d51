-- The listing card kept ready (core.listing_cards, V0036, ADR 0022): its rows, their rewrite, and
-- the triggers' functions. The triggers use the last two: migrate keeps those in place (replacing
-- their bodies) when it re-creates the surface.
-- No SET search_path (every name is qualified): a SQL function without it is inlined into the
-- statement that calls it, and planned with it.
create or replace function core.listing_card_rows(p_listing_ids bigint[]) returns setof core.listing_cards
language sql
stable
as $$
    select
        l.id, c.name, mk.name, m.name, u.display_name, s.name,
        array(select p.storage_key from core.listing_photos as p where p.listing_id = l.id order by p.position),
        (select coalesce(jsonb_agg(jsonb_build_object(
            'make', fmk.name, 'model', fm.name, 'model_id', f.model_id,
            'year_from', f.year_from, 'year_to', f.year_to
        ) order by fmk.name, fm.name, f.year_from), '[]')
        from core.part_fitments as f
        inner join core.vehicle_models as fm on f.model_id = fm.id
        inner join core.vehicle_makes as fmk on fm.make_id = fmk.id
        where f.listing_id = l.id),
        -- core.listing_tag_names' rule, written out: that file is created after this one (a SQL body
        -- is checked when created), and a call per row would cost the million-row fill
        array(
            select t.name from core.listing_tags as lt inner join core.tags as t on lt.tag_id = t.id
            where lt.listing_id = l.id order by t.name
        )
    from core.listings as l
    inner join core.categories as c on l.category_id = c.id
    inner join core.users as u on l.seller_id = u.id
    left join core.shops as s on l.shop_id = s.id
    left join core.vehicle_models as m on l.model_id = m.id
    left join core.vehicle_makes as mk on m.make_id = mk.id
    -- no "or p_listing_ids is null": a cached generic plan could not use the primary key then, and
    -- every trigger's call became a scan of all listings (core.refresh_listing_cards passes them all)
    where l.id = any(p_listing_ids)
$$;
comment on function core.listing_card_rows(bigint[]) is
'The kept cards of these listings as computed from the tables now.';

-- PL/pgSQL: its plan is kept for the session (a SQL function's would be made again at every call)
create or replace function core.refresh_listing_cards(p_listing_ids bigint[]) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    insert into core.listing_cards as k
    select * from core.listing_card_rows(coalesce(p_listing_ids, array(select l.id from core.listings as l)))
    on conflict (listing_id) do update set
        category = excluded.category, make = excluded.make, model = excluded.model,
        seller_name = excluded.seller_name, shop_name = excluded.shop_name, photos = excluded.photos,
        fitment = excluded.fitment, tags = excluded.tags
    where k is distinct from excluded;
end
$$;
comment on function core.refresh_listing_cards(bigint[]) is
'Rewrite the kept cards (core.listing_cards) of these listings, all of them for NULL; a card that '
'would not change is left alone.';

create or replace function core.listing_cards_follow_parts() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    -- statement level: a photo list replaced in one statement rewrites its card once, a bulk
    -- insert of listings makes their cards in one statement
    if tg_table_name = 'listings' then
        perform core.refresh_listing_cards(array(select n.id from new_rows as n));
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform core.refresh_listing_cards(array(select distinct n.listing_id from new_rows as n));
    end if;
    if tg_op in ('UPDATE', 'DELETE') then
        perform core.refresh_listing_cards(array(select distinct o.listing_id from old_rows as o));
    end if;
    return null;
end
$$;
comment on function core.listing_cards_follow_parts() is
'Trigger (per statement, on listing_photos, part_fitments and listing_tags, and on inserts into '
'listings): rewrite the cards of the listings the statement touched.';

create or replace function core.listing_cards_follow_names() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    -- per row, and only when a name the cards show changed (WHEN of each trigger): rare
    perform core.refresh_listing_cards(array(
        select l.id from core.listings as l
        where case tg_table_name
            when 'listings' then l.id = new.id
            when 'users' then l.seller_id = new.id
            when 'shops' then l.shop_id = new.id
            when 'categories' then l.category_id = new.id
            when 'vehicle_models' then l.model_id = new.id
                or l.id in (select f.listing_id from core.part_fitments as f where f.model_id = new.id)
            when 'vehicle_makes' then l.model_id in (select m.id from core.vehicle_models as m where m.make_id = new.id)
                or l.id in (
                    select f.listing_id from core.part_fitments as f
                    inner join core.vehicle_models as m on f.model_id = m.id
                    where m.make_id = new.id
                )
            when 'tags' then l.id in (select lt.listing_id from core.listing_tags as lt where lt.tag_id = new.id)
        end
    ));
    return null;
end
$$;
comment on function core.listing_cards_follow_names() is
'Trigger (per row, on listings, users, shops, categories, vehicle_models, vehicle_makes and tags, when a '
'name or reference the cards show changed): rewrite the cards that show it.';
