create or replace function api.create_listing(
    p_token text,
    p_kind text,
    p_category_id bigint,
    p_title text,
    p_price_amount bigint,
    p_region text,
    p_city text,
    p_attributes jsonb default '{}',
    p_description text default '',
    p_currency text default 'RUB',
    p_brand text default null,
    p_model_id bigint default null,
    p_quantity integer default 1,
    p_wholesale_price_amount bigint default null,
    p_wholesale_min_quantity integer default null,
    p_shop_id bigint default null,
    p_contact_name text default null,
    p_contact_phone text default null,
    p_photos text[] default null,
    p_tags text[] default null
) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_kind core.listing_kind := core.listing_kind(p_kind);
    v_category core.categories;
    v_listing core.listings;
    v_id bigint;
begin
    select c.* into v_category from core.categories as c where c.id = p_category_id;
    if not found then
        perform core.raise_invalid(format('unknown category %s', p_category_id));
    end if;
    if v_category.kind <> v_kind then
        perform core.raise_invalid(format('category %s holds %s listings, not %s', v_category.slug, v_category.kind, v_kind));
    end if;
    if p_shop_id is not null then
        perform core.require_shop_role(v_user.id, p_shop_id, '{owner,manager,seller}', 'publish for it');
    end if;
    v_listing.kind := v_kind;
    v_listing.category_id := p_category_id;
    v_listing.title := p_title;
    v_listing.description := p_description;
    v_listing.region := p_region;
    v_listing.city := p_city;
    v_listing.price_amount := p_price_amount;
    v_listing.currency := p_currency;
    v_listing.wholesale_price_amount := p_wholesale_price_amount;
    v_listing.wholesale_min_quantity := p_wholesale_min_quantity;
    v_listing.quantity := p_quantity;
    v_listing.brand := p_brand;
    v_listing.model_id := p_model_id;
    v_listing.contact_name := p_contact_name;
    v_listing.contact_phone := p_contact_phone;
    v_listing.attributes := coalesce(p_attributes, '{}');
    v_listing := core.check_listing(v_listing);
    insert into core.listings (
        kind, category_id, seller_id, shop_id, title, description, brand, model_id, region, city,
        price_amount, currency, wholesale_price_amount, wholesale_min_quantity, quantity,
        contact_name, contact_phone, attributes
    ) values (
        v_kind, p_category_id, v_user.id, p_shop_id, v_listing.title, v_listing.description, v_listing.brand,
        v_listing.model_id, v_listing.region, v_listing.city, v_listing.price_amount, v_listing.currency,
        v_listing.wholesale_price_amount, v_listing.wholesale_min_quantity, v_listing.quantity,
        v_listing.contact_name, v_listing.contact_phone, v_listing.attributes
    ) returning id into v_id;
    insert into core.listing_status_history (listing_id, from_status, to_status, changed_by)
    values (v_id, null, 'draft', v_user.id);
    insert into core.listing_price_history
    (listing_id, price_amount, currency, wholesale_price_amount, wholesale_min_quantity, changed_by)
    values (v_id, p_price_amount, p_currency, p_wholesale_price_amount, p_wholesale_min_quantity, v_user.id);
    if p_photos is not null then
        perform core.set_listing_photos(v_id, p_photos);
    end if;
    if p_tags is not null then
        perform core.set_listing_tags(v_id, p_tags);
    end if;
    return v_id;
end
$$;
comment on function api.create_listing(
    text, text, bigint, text, bigint, text, text, jsonb, text, text, text, bigint, integer, bigint, integer,
    bigint, text, text, text[], text[]
) is
'Create a draft listing (car|part|service) for yourself or for a shop you sell for; prices in minor '
'units. Attributes are checked against the kind and category definitions; free tags are normalised '
'(lower case, trimmed), duplicates kept once, at most max_tags_per_listing. The same rules as '
'api.edit_listing (core.check_listing). Returns the id. 28000/42501 token; 42501 not a member of the shop; '
'P0002 no shop; 22023 any bad argument (a bad tag, too many tags), naming it.';
