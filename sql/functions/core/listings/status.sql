-- The listing status machine: legal moves are rows of core.listing_transitions.

create or replace function core.transition_listing(
    p_listing core.listings, p_to core.listing_status, p_actor_id bigint, p_reason text default null
) returns core.listings
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.listings;
    v_lifetime interval;
begin
    if not exists (
        select from core.listing_transitions as t where t.from_status = p_listing.status and t.to_status = p_to
    ) then
        raise exception using
            errcode = '55000',
            message = format('a %s listing cannot become %s', p_listing.status, p_to),
            detail = '{"reason": "illegal_transition"}';
    end if;
    select c.listing_lifetime into v_lifetime from core.categories as c where c.id = p_listing.category_id;
    update core.listings as l set
        status = p_to,
        status_changed_at = now(),
        rejection_reason = case when p_to = 'rejected' then p_reason end,
        published_at = case when p_to = 'published' then coalesce(l.published_at, now()) else l.published_at end,
        expires_at = case when p_to = 'published' and p_listing.status = 'pending' then now() + v_lifetime
                          else l.expires_at end,
        sort_date = case when p_to = 'published' and p_listing.status = 'pending' then now() else l.sort_date end
    where l.id = p_listing.id
    returning l.* into v_row;
    insert into core.listing_status_history (listing_id, from_status, to_status, changed_by, reason)
    values (p_listing.id, p_listing.status, p_to, p_actor_id, p_reason);
    if p_to = 'published' and p_listing.status = 'pending' then
        -- saved searches are matched after the commit, by ops.match_saved_searches: no saved
        -- search can fail or slow down a publication
        insert into core.saved_search_queue (listing_id) values (p_listing.id) on conflict do nothing;
        perform core.publish_to_channels(v_row);
    else
        -- reserved, sold, archived, back on sale: the channel posts show the new status
        perform core.sync_channel_posts(p_listing.id);
    end if;
    return v_row;
end
$$;
comment on function core.transition_listing(core.listings, core.listing_status, bigint, text) is
'Move a listing along core.listing_transitions (55000 for any other move), recording the history; '
'publishing from moderation starts the category''s lifetime, puts it on top of the feed, queues it for '
'saved-search matching and posts it to the matching Telegram channels; other moves queue an edit of its '
'channel posts when what they show changes.';

create or replace function core.seller_transition(
    p_token text, p_listing_id bigint, p_to core.listing_status
) returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    perform core.require_listing_manager(v_user, v_listing);
    if p_to in ('sold', 'archived') and v_listing.reserved_quantity > 0 then
        raise exception using
            errcode = '55000',
            message = format('%s unit(s) are reserved by open orders', v_listing.reserved_quantity),
            hint = 'confirm or cancel those orders first',
            detail = '{"reason": "units_reserved"}';
    end if;
    return (core.transition_listing(v_listing, p_to, v_user.id)).status::text;
end
$$;
comment on function core.seller_transition(text, bigint, core.listing_status) is
'A status move the seller side makes (submit, archive, sold): authenticate, lock, check, move.';

create or replace function core.moderate_listing(
    p_token text, p_listing_id bigint, p_to core.listing_status, p_reason text
) returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_revision core.listing_revisions;
begin
    perform core.require_platform_role(v_user, 'moderator');
    if v_listing.seller_id = v_user.id or core.may_manage_listing(v_user, v_listing) then
        -- a moderator's own listing (or their shop's) is moderated by someone else, also after
        -- they left the shop it was published for
        raise exception using errcode = '42501', message = 'you cannot moderate your own listing',
            hint = 'another moderator decides on it';
    end if;
    select r.* into v_revision from core.listing_revisions as r
    where r.listing_id = p_listing_id and r.status = 'pending'
    for update;
    if v_listing.status <> 'pending' then
        if v_revision.id is null then
            raise exception using
                errcode = '55000',
                message = format('a %s listing is not waiting for moderation', v_listing.status),
                hint = 'nor are changes to it',
                detail = '{"reason": "nothing_to_moderate"}';
        end if;
        -- changes to a public listing: the listing stays as it is, the changes are decided
        perform core.decide_revision(v_user, v_listing, v_revision, p_to = 'published', p_reason);
        return case when p_to = 'published' then 'edit_approved' else 'edit_rejected' end;
    end if;
    if v_revision.id is not null then
        -- changes made while it was public, then sent back for moderation with it: one decision
        if p_to = 'published' then
            perform core.apply_revision(p_listing_id, v_revision.changes);
            select l.* into v_listing from core.listings as l where l.id = p_listing_id;
        end if;
        perform core.close_revision(v_revision.id, case when p_to = 'published' then 'approved' else 'rejected' end,
                                    v_user.id, p_reason);
    end if;
    perform core.transition_listing(v_listing, p_to, v_user.id, p_reason);
    perform core.notify(v_listing.seller_id, 'moderation_' || p_to::text,
                        jsonb_build_object('listing_id', p_listing_id, 'title', v_listing.title, 'reason', p_reason));
    perform core.audit(v_user.id, case p_to when 'published' then 'approve_listing' else 'reject_listing' end,
                       v_listing.seller_id, v_listing.shop_id, p_reason,
                       jsonb_build_object('listing_id', p_listing_id));
    return p_to::text;
end
$$;
comment on function core.moderate_listing(text, bigint, core.listing_status, text) is
'A moderation decision (published or rejected with a reason): moderators only, never on a listing they '
'may manage themselves, audited. On a pending listing it decides the listing (and changes made to it '
'while it was public, if any); on a public one with pending changes, those changes (the listing stays '
'public either way): returns published, rejected, edit_approved or edit_rejected. 55000 when neither '
'waits.';

create or replace function core.sync_listing_status(p_listing_id bigint, p_actor_id bigint) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    -- on sale with every unit held: reserved; reserved with a unit free again: on sale
    if v_listing.status = 'published' and v_listing.reserved_quantity > 0
        and v_listing.quantity = v_listing.reserved_quantity then
        perform core.transition_listing(v_listing, 'reserved', p_actor_id, 'every unit reserved');
    elsif v_listing.status = 'reserved' and v_listing.quantity > v_listing.reserved_quantity then
        perform core.transition_listing(v_listing, 'published', p_actor_id, 'units available again');
    end if;
end
$$;
comment on function core.sync_listing_status(bigint, bigint) is
'Make a listing''s status follow its stock after the quantity changed: reserved when every unit is held, '
'published again when one is free.';
