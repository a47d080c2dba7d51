-- Moderated edits of public listings (docs/adr/0019-moderated-edits.md): what counts as content,
-- the listing as a pending revision would make it, and applying a revision once approved.

create or replace function core.content_fields() returns text[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select array['title', 'description', 'brand', 'model_id', 'contact_name', 'contact_phone', 'attributes',
                 'photos', 'tags']
$$;
comment on function core.content_fields() is
'The fields of a listing whose change a moderator approves while the listing is public (price, '
'quantity, region and city change at once).';

create or replace function core.with_changes(p_listing core.listings, p_changes jsonb) returns core.listings
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings := p_listing;
begin
    -- the values of a revision were checked when it was written: taken as they are
    if p_changes ? 'title' then v_listing.title := p_changes ->> 'title'; end if;
    if p_changes ? 'description' then v_listing.description := p_changes ->> 'description'; end if;
    if p_changes ? 'brand' then v_listing.brand := p_changes ->> 'brand'; end if;
    if p_changes ? 'model_id' then v_listing.model_id := (p_changes ->> 'model_id')::bigint; end if;
    if p_changes ? 'contact_name' then v_listing.contact_name := p_changes ->> 'contact_name'; end if;
    if p_changes ? 'contact_phone' then v_listing.contact_phone := p_changes ->> 'contact_phone'; end if;
    if p_changes ? 'attributes' then v_listing.attributes := p_changes -> 'attributes'; end if;
    return v_listing;
end
$$;
comment on function core.with_changes(core.listings, jsonb) is
'The listing with the scalar content fields of a revision''s changes (photos and tags are rows of '
'their own: core.apply_revision).';

create or replace function core.listing_content(p_listing core.listings) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    -- plpgsql: core.listing_tag_names (core/tags.sql) is created after this file
    return jsonb_build_object(
        'title', p_listing.title, 'description', p_listing.description, 'brand', p_listing.brand,
        'model_id', p_listing.model_id, 'contact_name', p_listing.contact_name,
        'contact_phone', p_listing.contact_phone, 'attributes', p_listing.attributes,
        'photos', to_jsonb(array(select p.storage_key from core.listing_photos as p
                                 where p.listing_id = p_listing.id order by p.position)),
        'tags', to_jsonb(core.listing_tag_names(p_listing.id))
    );
end
$$;
comment on function core.listing_content(core.listings) is
'What the public sees of a listing''s content, by field as a revision holds it (tags sorted).';

create or replace function core.apply_revision(p_listing_id bigint, p_changes jsonb) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    -- checked again: the catalog or the settings may have changed since the edit
    v_listing := core.check_listing(core.with_changes(v_listing, p_changes));
    update core.listings as l set
        title = v_listing.title, description = v_listing.description, brand = v_listing.brand,
        model_id = v_listing.model_id, contact_name = v_listing.contact_name,
        contact_phone = v_listing.contact_phone, attributes = v_listing.attributes
    where l.id = p_listing_id;
    if p_changes ? 'photos' then
        perform core.set_listing_photos(
            p_listing_id, array(select jsonb_array_elements_text(p_changes -> 'photos'))
        );
    end if;
    if p_changes ? 'tags' then
        perform core.set_listing_tags(p_listing_id, array(select jsonb_array_elements_text(p_changes -> 'tags')));
    end if;
    -- the channels follow what was approved
    perform core.sync_channel_posts(p_listing_id);
end
$$;
comment on function core.apply_revision(bigint, jsonb) is
'Make a revision''s changes the listing''s content (checked again, 22023 if they no longer pass), and '
'edit its channel posts to match.';

create or replace function core.close_revision(
    p_revision_id bigint, p_status text, p_by bigint, p_reason text
) returns void
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
    update core.listing_revisions as r
    set status = p_status, decided_at = now(), decided_by = p_by, reason = p_reason
    where r.id = p_revision_id
$$;
comment on function core.close_revision(bigint, text, bigint, text) is
'End a pending revision: approved, rejected or withdrawn, by whom and why.';

create or replace function core.decide_revision(
    p_moderator core.users, p_listing core.listings, p_revision core.listing_revisions, p_approve boolean,
    p_reason text
) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_approve then
        perform core.apply_revision(p_listing.id, p_revision.changes);
    end if;
    perform core.close_revision(p_revision.id, case when p_approve then 'approved' else 'rejected' end,
                                p_moderator.id, p_reason);
    perform core.notify(p_listing.seller_id, case when p_approve then 'edit_approved' else 'edit_rejected' end,
                        jsonb_build_object('listing_id', p_listing.id, 'title', p_listing.title, 'reason', p_reason));
    perform core.audit(p_moderator.id, case when p_approve then 'approve_edit' else 'reject_edit' end,
                       p_listing.seller_id, p_listing.shop_id, p_reason,
                       jsonb_build_object('listing_id', p_listing.id, 'revision_id', p_revision.id,
                                          'fields', (select jsonb_agg(k order by k)
                                                     from jsonb_object_keys(p_revision.changes) as k)));
end
$$;
comment on function core.decide_revision(core.users, core.listings, core.listing_revisions, boolean, text) is
'A moderator''s decision on a pending revision: approved (applied, core.apply_revision) or rejected with '
'a reason; the seller is notified (edit_approved, edit_rejected); audited with the fields it changed.';
