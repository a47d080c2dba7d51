create or replace function api.edit_listing(p_token text, p_listing_id bigint, p_changes jsonb) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_key text;
    v_new core.listings;
    v_by_moderator boolean;
    v_photos text[];
    v_tags text[];
begin
    if p_changes is null or jsonb_typeof(p_changes) <> 'object' or p_changes = '{}' then
        perform core.raise_invalid('changes must be a non-empty JSON object');
    end if;
    -- moderators may edit a listing waiting for them; otherwise the seller's side
    v_by_moderator := v_listing.status = 'pending' and v_user.role >= 'moderator'
        and not core.may_manage_listing(v_user, v_listing);
    if not v_by_moderator then
        perform core.require_listing_manager(v_user, v_listing);
    end if;
    if v_listing.status = 'sold' then
        raise exception using errcode = '55000', message = format('a %s listing cannot be edited', v_listing.status);
    end if;
    for v_key in select jsonb_object_keys(p_changes) loop
        if v_key in ('price_amount', 'currency', 'wholesale_price_amount', 'wholesale_min_quantity') then
            perform core.raise_invalid(format('"%s" is changed with api.change_price', v_key));
        end if;
        if v_key not in ('title', 'description', 'brand', 'model_id', 'region', 'city', 'quantity',
                         'contact_name', 'contact_phone', 'attributes', 'photos', 'tags') then
            perform core.raise_invalid(format('%s cannot be edited', core.quoted(v_key)));
        end if;
    end loop;
    -- the changed row goes through the same rules as a new listing (core.check_listing)
    v_new := v_listing;
    if p_changes ? 'title' then v_new.title := core.json_string(p_changes -> 'title', 'title'); end if;
    if p_changes ? 'description' then
        v_new.description := core.json_string(p_changes -> 'description', 'description');
    end if;
    if p_changes ? 'region' then v_new.region := core.json_string(p_changes -> 'region', 'region'); end if;
    if p_changes ? 'city' then v_new.city := core.json_string(p_changes -> 'city', 'city'); end if;
    if p_changes ? 'brand' then v_new.brand := core.json_string(p_changes -> 'brand', 'brand'); end if;
    if p_changes ? 'contact_name' then
        v_new.contact_name := core.json_string(p_changes -> 'contact_name', 'contact_name');
    end if;
    if p_changes ? 'contact_phone' then
        v_new.contact_phone := core.json_string(p_changes -> 'contact_phone', 'contact_phone');
    end if;
    if p_changes ? 'model_id' then
        v_new.model_id := core.json_whole_number(p_changes -> 'model_id', 'model_id', 1);
    end if;
    if p_changes ? 'quantity' then
        v_new.quantity := core.json_whole_number(p_changes -> 'quantity', 'quantity', 1, 1000000);
        if v_new.quantity is null then
            perform core.raise_invalid('the quantity must be at least 1 (mark the listing sold instead)');
        end if;
    end if;
    if p_changes ? 'attributes' then
        v_new.attributes := p_changes -> 'attributes';
    end if;
    if p_changes ? 'photos' then
        v_photos := core.json_string_array(p_changes -> 'photos', 'photos');
    end if;
    if p_changes ? 'tags' then
        v_tags := core.json_string_array(p_changes -> 'tags', 'tags');
    end if;
    v_new := core.check_listing(v_new);
    if v_new.quantity < v_listing.reserved_quantity then
        raise exception using
            errcode = '55000',
            message = format('%s unit(s) are reserved by open orders', v_listing.reserved_quantity),
            hint = 'wait for those orders to be paid, cancelled or expired';
    end if;
    update core.listings as l set
        title = v_new.title, description = v_new.description, brand = v_new.brand, model_id = v_new.model_id,
        region = v_new.region, city = v_new.city, quantity = v_new.quantity, contact_name = v_new.contact_name,
        contact_phone = v_new.contact_phone, attributes = v_new.attributes
    where l.id = p_listing_id;
    if p_changes ? 'quantity' then
        perform core.sync_listing_status(p_listing_id, v_user.id);
    end if;
    if p_changes ? 'photos' then
        perform core.set_listing_photos(p_listing_id, coalesce(v_photos, '{}'));
    end if;
    if p_changes ? 'tags' then
        perform core.set_listing_tags(p_listing_id, coalesce(v_tags, '{}'));
    end if;
    -- a new title, description or photos edits the channel posts (ADR 0009)
    perform core.sync_channel_posts(p_listing_id);
    if v_by_moderator then
        perform core.audit(v_user.id, 'edit_listing', v_listing.seller_id, v_listing.shop_id, null,
                           jsonb_build_object('listing_id', p_listing_id, 'changes', (
                               -- the values as checked and stored, not the request as sent
                               select jsonb_object_agg(k.key, case k.key when 'photos' then to_jsonb(v_photos)
                                                                         when 'tags' then to_jsonb(v_tags)
                                                                         else to_jsonb(v_new) -> k.key end)
                               from jsonb_object_keys(p_changes) as k (key))));
    end if;
end
$$;
comment on function api.edit_listing(text, bigint, jsonb) is
'Change some fields of a listing: title, description, brand, model_id, region, city, quantity, '
'contact_name, contact_phone (JSON strings or whole numbers as their type), attributes (re-checked), '
'photos (ordered keys), tags (the whole list, normalised, at most max_tags_per_listing); the result '
'passes the same rules as a new listing (core.check_listing). The seller side edits '
'their listing; a moderator edits one waiting for moderation (audited). Prices: api.change_price. '
'28000/42501 token; 42501 not allowed; P0002 no listing; 55000 sold, or a quantity under the units '
'reserved by open orders; 22023 bad change.';
