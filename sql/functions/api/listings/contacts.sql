create or replace function api.open_contacts(
    p_listing_id bigint,
    p_token text default null,
    p_fingerprint text default null,
    p_source text default 'card'
) returns table (contact_name text, contact_phone text, seller_id bigint)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_viewer core.users;
    v_listing core.listings;
begin
    if p_fingerprint is not null and char_length(p_fingerprint) not between 8 and 128 then
        perform core.raise_invalid('a fingerprint is 8-128 characters');
    end if;
    if p_token is not null then
        v_viewer := core.authenticate(p_token);
    elsif p_fingerprint is null then
        perform core.raise_invalid('an anonymous viewer needs a fingerprint of 8-128 characters');
    end if;
    if p_source is null or char_length(p_source) not between 2 and 30 or p_source !~ '^[a-z_]+$' then
        perform core.raise_invalid(format('%s is not a click source', core.quoted(p_source)),
                                   'e.g. card, search, channel');
    end if;
    v_listing := core.find_listing(p_listing_id, '{published,reserved}');
    perform core.check_contact_reveals(v_viewer.id, case when v_viewer.id is null then p_fingerprint end,
                                       p_listing_id);
    insert into core.contact_clicks (listing_id, viewer_id, fingerprint, source)
    values (p_listing_id, v_viewer.id, case when v_viewer.id is null then p_fingerprint end, p_source);
    -- counts are served from these, never by scanning the log
    update core.listings as l set contact_click_count = l.contact_click_count + 1 where l.id = p_listing_id;
    insert into core.contact_clicks_daily as d (listing_id, day, clicks) values (p_listing_id, current_date, 1)
    on conflict (listing_id, day) do update set clicks = d.clicks + 1;
    return query
    select coalesce(v_listing.contact_name, u.display_name), coalesce(v_listing.contact_phone, u.phone), u.id
    from core.users as u where u.id = v_listing.seller_id;
end
$$;
comment on function api.open_contacts(bigint, text, text, text) is
'Show a listing''s seller contacts, and log the click (viewer by token, or an anonymous fingerprint; '
'source such as card or search). One viewer (signed in, or one fingerprint) opens the contacts of at most '
'contact_reveal_limit listings per contact_reveal_window (opening one again is free): BZ429 beyond. P0002 '
'not on sale; 22023 no fingerprint (anonymous), a fingerprint not 8-128 characters, or bad source; 28000 '
'bad token.';

create or replace function api.notify_clickers(p_token text, p_listing_id bigint, p_message text)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_message text := core.clean_name(p_message, 'the message', 3, 500);
    v_listing core.listings;
    v_viewer bigint;
    v_count integer := 0;
begin
    v_listing := core.lock_listing(p_listing_id);
    perform core.require_listing_manager(v_user, v_listing);
    if v_listing.clickers_notified_at > now() - core.setting_interval('notify_clickers_interval') then
        raise exception using
            errcode = 'BZ429',
            message = 'the clickers of this listing were messaged recently',
            hint = format('the next message can go after %s', to_char(
                v_listing.clickers_notified_at + core.setting_interval('notify_clickers_interval'),
                'YYYY-MM-DD HH24:MI TZ'));
    end if;
    update core.listings as l set clickers_notified_at = now() where l.id = p_listing_id;
    -- one notification per distinct signed-in viewer (anonymous clicks cannot be reached)
    for v_viewer in
        select distinct c.viewer_id from core.contact_clicks as c
        where c.listing_id = p_listing_id and c.viewer_id is not null and c.viewer_id <> v_listing.seller_id
    loop
        perform core.notify(v_viewer, 'seller_message',
                            jsonb_build_object('listing_id', p_listing_id, 'message', v_message));
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
comment on function api.notify_clickers(text, bigint, text) is
'Send a message (a price drop, say) to everyone signed in who opened this listing''s contacts, once '
'each, at most once per notify_clickers_interval per listing; returns how many people. 28000/42501; '
'42501 not the seller side; P0002; 22023 bad text; BZ429 messaged too recently.';

create or replace function api.listing_stats(p_token text, p_listing_id bigint, p_days integer default 30)
returns table (day date, contact_clicks integer)
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
    if p_days is null or p_days not between 1 and 400 then
        perform core.raise_invalid('days must be between 1 and 400');
    end if;
    return query
    select d.day, d.clicks from core.contact_clicks_daily as d
    where d.listing_id = p_listing_id and d.day > current_date - p_days
    order by d.day;
end
$$;
comment on function api.listing_stats(text, bigint, integer) is
'Contact clicks per day for the last P_DAYS (from the daily rollup). 28000/42501; 42501; P0002; 22023.';
