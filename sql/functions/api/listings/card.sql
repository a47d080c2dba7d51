create or replace function api.listing_card(p_listing_id bigint, p_token text default null)
returns table (
    listing_id bigint,
    kind text,
    status text,
    title text,
    description text,
    category_id bigint,
    category text,
    brand text,
    make text,
    model text,
    region text,
    city text,
    price_amount bigint,
    currency text,
    wholesale_price_amount bigint,
    wholesale_min_quantity integer,
    quantity integer,
    attributes jsonb,
    photos text[],
    fitment jsonb,
    seller_id bigint,
    seller_name text,
    shop_id bigint,
    shop_name text,
    available_quantity integer,
    sold_out boolean,
    chat_enabled boolean,
    contact_clicks bigint,
    created_at timestamptz,
    sort_date timestamptz,
    promoted boolean,
    advertisement text,
    like_count integer,
    dislike_count integer,
    favorite_count integer,
    rejection_reason text,
    tags text[],
    pending_changes jsonb
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings := core.visible_listing(p_listing_id, p_token);
    v_viewer core.users;
    v_insider boolean := false;
begin
    if p_token is not null then
        v_viewer := core.authenticate(p_token);
        v_insider := core.may_manage_listing(v_viewer, v_listing) or v_viewer.role >= 'moderator';
    end if;
    return query
    select l.id, l.kind::text, l.status::text, l.title, l.description, l.category_id, c.name, l.brand, mk.name, m.name,
        l.region, l.city, l.price_amount, l.currency, l.wholesale_price_amount, l.wholesale_min_quantity, l.quantity,
        l.attributes,
        array(select p.storage_key from core.listing_photos as p where p.listing_id = l.id order by p.position),
        (select coalesce(jsonb_agg(jsonb_build_object(
                    'make', fmk.name, 'model', fm.name, 'model_id', f.model_id,
                    'year_from', f.year_from, 'year_to', f.year_to) order by fmk.name, fm.name, f.year_from), '[]')
         from core.part_fitments as f
         join core.vehicle_models as fm on fm.id = f.model_id
         join core.vehicle_makes as fmk on fmk.id = fm.make_id
         where f.listing_id = l.id),
        l.seller_id, u.display_name, l.shop_id, s.name,
        l.quantity - l.reserved_quantity, l.quantity - l.reserved_quantity = 0, l.chat_enabled,
        l.contact_click_count, l.created_at, l.sort_date, coalesce(l.promoted_until > now(), false),
        coalesce(l.ad_insert, (select a.title || ': ' || a.body from core.ad_campaigns as a
                               where a.id = l.ad_campaign_id and now() between a.starts_at and a.ends_at)),
        l.like_count, l.dislike_count, l.favorite_count, l.rejection_reason, core.listing_tag_names(l.id),
        case when v_insider then (select r.changes from core.listing_revisions as r
                                  where r.listing_id = l.id and r.status = 'pending') end
    from core.listings as l
    join core.categories as c on c.id = l.category_id
    join core.users as u on u.id = l.seller_id
    left join core.shops as s on s.id = l.shop_id
    left join core.vehicle_models as m on m.id = l.model_id
    left join core.vehicle_makes as mk on mk.id = m.make_id
    where l.id = p_listing_id;
end
$$;
comment on function api.listing_card(bigint, text) is
'Everything a listing page shows: fields, attributes, ordered photos, fitment, seller and shop, stock '
'(available, sold out), chat state, contact clicks (contacts themselves: api.open_contacts), '
'promotion, advertisement, exact like/dislike/favorite counts, tags (alphabetical), and for its seller '
'side and staff the changes waiting for a moderator (pending_changes; the rest is the approved '
'version). '
'Public for published, reserved and sold listings; others only with the token of their seller side or '
'staff. A token given must be valid (28000/42501), even for a public listing. P0002 otherwise.';
