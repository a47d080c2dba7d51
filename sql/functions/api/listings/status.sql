-- A listing's moves: submit, archive, sold, bump, and its status history.

create or replace function api.submit_listing(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.seller_transition(p_token, p_listing_id, 'pending');
end
$$;
comment on function api.submit_listing(text, bigint) is
'Send a draft (or a rejected, expired or archived listing) to moderation. 28000/42501 token; 42501 not '
'the seller; P0002 no listing; 55000 not from that state.';

create or replace function api.archive_listing(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.seller_transition(p_token, p_listing_id, 'archived');
end
$$;
comment on function api.archive_listing(text, bigint) is
'Take a listing off the marketplace (kept, can be resubmitted). 28000/42501 token; 42501 not the seller; '
'P0002 no listing; 55000 reserved or sold.';

create or replace function api.mark_listing_sold(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.seller_transition(p_token, p_listing_id, 'sold');
end
$$;
comment on function api.mark_listing_sold(text, bigint) is
'Mark a published or reserved listing sold. 28000/42501 token; 42501 not the seller; P0002; 55000.';

create or replace function api.bump_listing(p_token text, p_listing_id bigint) returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_interval interval := core.setting_interval('bump_interval');
begin
    perform core.require_listing_manager(v_user, v_listing);
    if v_listing.status <> 'published' then
        raise exception using errcode = '55000', message = 'only a published listing can be bumped',
            detail = '{"reason": "not_published"}';
    end if;
    if v_listing.bumped_at > now() - v_interval then
        raise exception using
            errcode = 'BZ429',
            message = 'this listing was bumped recently',
            hint = format('it can be bumped again after %s',
                          to_char(v_listing.bumped_at + v_interval, 'YYYY-MM-DD HH24:MI TZ'));
    end if;
    update core.listings as l set sort_date = now(), bumped_at = now() where l.id = p_listing_id;
    return now();
end
$$;
comment on function api.bump_listing(text, bigint) is
'Move a published listing to the top of the feed (its sort date; created_at stays), at most once per '
'bump_interval. 28000/42501 token; 42501 not the seller; P0002; 55000 not published; BZ429 too soon.';

create or replace function api.listing_history(p_token text, p_listing_id bigint)
returns table (changed_at timestamptz, from_status text, to_status text, changed_by bigint, reason text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings;
begin
    v_listing := core.find_listing(p_listing_id);
    if v_user.role < 'moderator' then
        perform core.require_listing_manager(v_user, v_listing);
    end if;
    return query
    select h.changed_at, h.from_status::text, h.to_status::text, h.changed_by, h.reason
    from core.listing_status_history as h where h.listing_id = p_listing_id order by h.id;
end
$$;
comment on function api.listing_history(text, bigint) is
'The status history of a listing (its seller side and staff). 28000/42501 token; 42501; P0002.';
