create or replace function api.edit_listing(p_token text, p_listing_id bigint, p_changes jsonb) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_revision core.listing_revisions;
    v_pending jsonb;
    v_public boolean;
    v_key text;
    v_new core.listings;
    v_by_moderator boolean;
    v_photos text[];
    v_tags text[];
    v_content jsonb;
    v_current jsonb;
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
        raise exception using errcode = '55000', message = format('a %s listing cannot be edited', v_listing.status),
            detail = '{"reason": "listing_sold"}';
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
    -- changes still waiting for a moderator: this edit builds on them (ADR 0019)
    select r.* into v_revision from core.listing_revisions as r
    where r.listing_id = p_listing_id and r.status = 'pending'
    for update;
    v_pending := coalesce(v_revision.changes, '{}');
    v_public := v_listing.status in ('published', 'reserved');
    -- the changed row goes through the same rules as a new listing (core.check_listing)
    v_new := core.with_changes(v_listing, v_pending);
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
        v_photos := core.check_photo_keys(core.json_string_array(p_changes -> 'photos', 'photos'));
    elsif v_pending ? 'photos' then
        v_photos := array(select jsonb_array_elements_text(v_pending -> 'photos'));
    end if;
    if p_changes ? 'tags' then
        v_tags := core.normalize_tags(core.json_string_array(p_changes -> 'tags', 'tags'));
    elsif v_pending ? 'tags' then
        v_tags := array(select jsonb_array_elements_text(v_pending -> 'tags'));
    end if;
    v_new := core.check_listing(v_new);
    if v_new.quantity < v_listing.reserved_quantity then
        raise exception using
            errcode = '55000',
            message = format('%s unit(s) are reserved by open orders', v_listing.reserved_quantity),
            hint = 'wait for those orders to be paid, cancelled or expired',
            detail = '{"reason": "units_reserved"}';
    end if;
    if v_public and not v_by_moderator then
        -- on sale: the content waits for a moderator, the public keeps the approved version;
        -- quantity, region and city change at once
        v_current := core.listing_content(v_listing);
        v_content := (to_jsonb(v_new) - 'photos' - 'tags')
            || jsonb_build_object('photos', to_jsonb(coalesce(v_photos, '{}')),
                                  'tags', to_jsonb(array(select t from unnest(coalesce(v_tags, '{}')) as t order by t)));
        -- the fields this edit or an earlier one changed, unless they are back to what is public
        select jsonb_object_agg(k.key, v_content -> k.key) into v_content
        from jsonb_object_keys(v_pending || p_changes) as k (key)
        where k.key = any(core.content_fields()) and v_content -> k.key is distinct from v_current -> k.key;
        if v_content is null and v_revision.id is not null then
            perform core.close_revision(v_revision.id, 'withdrawn', v_user.id, 'edited back to the approved version');
        elsif v_content is not null and v_revision.id is not null then
            update core.listing_revisions as r set changes = v_content, updated_at = now() where r.id = v_revision.id;
        elsif v_content is not null then
            insert into core.listing_revisions (listing_id, changes, created_by) values (p_listing_id, v_content, v_user.id);
        end if;
        update core.listings as l set region = v_new.region, city = v_new.city, quantity = v_new.quantity
        where l.id = p_listing_id;
        if p_changes ? 'quantity' then
            perform core.sync_listing_status(p_listing_id, v_user.id);
        end if;
        return case when v_content is null then 'applied' else 'pending_review' end;
    end if;
    -- not public (a draft, waiting, rejected, archived, expired): applied at once, with any changes
    -- still waiting from when it was public; it is moderated as a whole when submitted
    if v_revision.id is not null then
        perform core.close_revision(v_revision.id, 'withdrawn', v_user.id, 'applied with an edit while off sale');
    end if;
    update core.listings as l set
        title = v_new.title, description = v_new.description, brand = v_new.brand, model_id = v_new.model_id,
        region = v_new.region, city = v_new.city, quantity = v_new.quantity, contact_name = v_new.contact_name,
        contact_phone = v_new.contact_phone, attributes = v_new.attributes
    where l.id = p_listing_id;
    if p_changes ? 'quantity' then
        perform core.sync_listing_status(p_listing_id, v_user.id);
    end if;
    if v_photos is not null then
        perform core.set_listing_photos(p_listing_id, v_photos);
    end if;
    if v_tags is not null then
        perform core.set_listing_tags(p_listing_id, v_tags);
    end if;
    -- off the market only the status reaches the channels (core.sync_channel_posts)
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
    return 'applied';
end
$$;
comment on function api.edit_listing(text, bigint, jsonb) is
'Change some fields of a listing: title, description, brand, model_id, region, city, quantity, '
'contact_name, contact_phone (JSON strings or whole numbers as their type), attributes (re-checked), '
'photos (ordered keys), tags (the whole list, normalised, at most max_tags_per_listing); the result '
'passes the same rules as a new listing (core.check_listing). On a listing on sale (published or '
'reserved) a change of content (all but quantity, region and city) waits for a moderator as the '
'listing''s pending revision, which later edits extend (an edit back to the public version withdraws '
'it), and the public sees the approved version until then: returns pending_review; otherwise the '
'change applies at once: applied. The seller side edits their listing; a moderator edits one waiting '
'for moderation (audited). Prices: api.change_price. 28000/42501 token; 42501 not allowed; P0002 no '
'listing; 55000 sold, or a quantity under the units reserved by open orders; 22023 bad change.';
