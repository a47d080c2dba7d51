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
    v_viewer core.users;
    v_staff boolean := false;
begin
    -- a token given is checked even where none is needed: a bad one is refused, never ignored
    if p_token is not null then
        v_viewer := core.authenticate(p_token);
        v_staff := v_viewer.role >= 'moderator';
    end if;
    -- one statement, two primary-key lookups: the listing and its card kept ready (ADR 0022)
    return query
    select l.id, l.kind::text, l.status::text, l.title, l.description, l.category_id, k.category, l.brand,
        k.make, k.model, l.region, l.city, l.price_amount, l.currency, l.wholesale_price_amount,
        l.wholesale_min_quantity, l.quantity, l.attributes, k.photos, k.fitment,
        l.seller_id, k.seller_name, l.shop_id, k.shop_name,
        l.quantity - l.reserved_quantity, l.quantity - l.reserved_quantity = 0, l.chat_enabled,
        l.contact_click_count, l.created_at, l.sort_date, coalesce(l.promoted_until > now(), false),
        coalesce(l.ad_insert, (select a.title || ': ' || a.body from core.ad_campaigns as a
                               where a.id = l.ad_campaign_id and now() between a.starts_at and a.ends_at)),
        l.like_count, l.dislike_count, l.favorite_count, l.rejection_reason, k.tags,
        case when v.insider then (select r.changes from core.listing_revisions as r
                                  where r.listing_id = l.id and r.status = 'pending') end
    from core.listings as l
    join core.listing_cards as k on k.listing_id = l.id
    -- the seller side and staff: only asked for when a token was given
    cross join lateral (
        select case when v_viewer.id is null then false
                    else v_staff or core.acts_for_seller(v_viewer.id, l.seller_id, l.shop_id) end as insider
    ) as v
    where l.id = p_listing_id
        and (core.listing_is_public(l.status, l.seller_blocked) or v.insider);
    if not found then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
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
