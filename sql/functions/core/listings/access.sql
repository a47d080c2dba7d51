-- Who may see and change a listing, and how often a viewer may open contacts.

create or replace function core.find_listing(
    p_listing_id bigint, p_statuses core.listing_status[] default null
) returns core.listings
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    -- a listing outside the statuses the caller may see does not exist for that caller, nor, for a
    -- public call (statuses given), one whose seller is blocked
    if not found or (p_statuses is not null and (not v_listing.status = any(p_statuses) or v_listing.seller_blocked)) then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    return v_listing;
end
$$;
comment on function core.find_listing(bigint, core.listing_status[]) is
'A listing (not locked); P0002 when it does not exist, or (P_STATUSES given: a public call) is in none '
'of P_STATUSES or its seller is blocked. Any listing when P_STATUSES is NULL.';

create or replace function core.lock_listing(p_listing_id bigint) returns core.listings
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    return v_listing;
end
$$;
comment on function core.lock_listing(
    bigint
) is 'Lock a listing row for a change; P0002 when it does not exist.';

-- No SET search_path (nothing here but operators on its arguments): a SQL function without it is
-- inlined into the query that calls it, so the card's statement stays one index lookup.
create or replace function core.listing_is_public(p_status core.listing_status, p_seller_blocked boolean)
returns boolean
language sql
immutable
parallel safe
return p_status in ('published', 'reserved', 'sold') and not p_seller_blocked;
comment on function core.listing_is_public(core.listing_status, boolean) is
'Whether anyone may see a listing: published, reserved or sold, and its seller not blocked.';

create or replace function core.visible_listing(p_listing_id bigint, p_token text) returns core.listings
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
    v_viewer core.users;
begin
    -- a token given is checked even where none is needed: a bad one is refused, never ignored
    if p_token is not null then
        v_viewer := core.authenticate(p_token);
    end if;
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    if v_listing.id is null or not core.listing_is_public(v_listing.status, v_listing.seller_blocked) then
        -- not public (or its seller blocked): only its seller side and staff see it
        if v_listing.id is null or v_viewer.id is null
            or not (core.may_manage_listing(v_viewer, v_listing) or v_viewer.role >= 'moderator') then
            raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
        end if;
    end if;
    return v_listing;
end
$$;
comment on function core.visible_listing(bigint, text) is
'The listing if the viewer may see it: anyone when published, reserved or sold and its seller is not '
'blocked; otherwise its seller side or staff (P_TOKEN, checked whenever given). P0002 otherwise '
'(28000/42501 for a bad token).';

create or replace function core.may_manage_listing(p_user core.users, p_listing core.listings) returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.acts_for_seller(p_user.id, p_listing.seller_id, p_listing.shop_id);
end
$$;
comment on function core.may_manage_listing(core.users, core.listings) is
'The listing''s seller (while still a member of its shop, if it has one), or an owner or manager of '
'that shop: core.acts_for_seller.';

create or replace function core.require_listing_manager(
    p_user core.users, p_listing core.listings
) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if not core.may_manage_listing(p_user, p_listing) then
        raise exception using
            errcode = '42501',
            message = 'only the seller (or an owner or manager of the shop) may change this listing';
    end if;
end
$$;
comment on function core.require_listing_manager(core.users, core.listings) is
'42501 unless the user may manage the listing (see core.may_manage_listing).';

create or replace function core.check_contact_reveals(
    p_viewer_id bigint, p_fingerprint text, p_listing_id bigint
) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_since timestamptz := now() - core.setting_interval('contact_reveal_window');
    v_opened bigint;
    v_again boolean;
begin
    -- one viewer's contact openings are counted one at a time
    perform pg_advisory_xact_lock(hashtextextended(format('contacts:%s:%s', p_viewer_id, p_fingerprint), 0));
    -- (two queries, so each uses its index: viewer_id or fingerprint, with clicked_at)
    if p_viewer_id is not null then
        select count(distinct c.listing_id), bool_or(c.listing_id = p_listing_id) into v_opened, v_again
        from core.contact_clicks as c where c.viewer_id = p_viewer_id and c.clicked_at > v_since;
    else
        select count(distinct c.listing_id), bool_or(c.listing_id = p_listing_id) into v_opened, v_again
        from core.contact_clicks as c where c.fingerprint = p_fingerprint and c.clicked_at > v_since;
    end if;
    if v_again then
        return;  -- the same contacts again: nothing new is revealed
    end if;
    if v_opened >= core.setting_int('contact_reveal_limit') then
        raise exception using
            errcode = 'BZ429',
            message = format('contacts of %s listings were opened within %s', v_opened,
                             core.setting('contact_reveal_window') #>> '{}'),
            hint = 'try again later';
    end if;
end
$$;
comment on function core.check_contact_reveals(bigint, text, bigint) is
'BZ429 when a viewer (user id, or anonymous fingerprint) already opened the contacts of '
'contact_reveal_limit other listings within contact_reveal_window: phone numbers cannot be harvested.';

create or replace function core.set_seller_blocked(p_seller_id bigint, p_blocked boolean) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing bigint;
    v_count integer := 0;
begin
    for v_listing in
        update core.listings as l set seller_blocked = p_blocked
        where l.seller_id = p_seller_id and l.seller_blocked is distinct from p_blocked
        returning l.id
    loop
        -- the channels follow: marked off sale while blocked, back on sale after
        perform core.sync_channel_posts(v_listing);
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
comment on function core.set_seller_blocked(bigint, boolean) is
'Hide (P_BLOCKED) or show again every listing of a seller being blocked or unblocked, and edit their '
'channel posts to match; returns how many listings changed.';
