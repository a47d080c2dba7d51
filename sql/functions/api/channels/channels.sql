-- Telegram channels: staff configure them; workers report deliveries; anyone compares a listing's
-- channel posts with the site (ADR 0009).

create or replace function api.create_channel(
    p_token text, p_name text, p_telegram_chat_id bigint, p_region text default null,
    p_category_id bigint default null
) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_name text;
    v_id bigint;
begin
    perform core.require_platform_role(v_user, 'moderator');
    v_name := core.clean_display_name(p_name, 'channel name', 2, 80);
    if p_telegram_chat_id is null or p_telegram_chat_id = 0 then
        perform core.raise_invalid('the Telegram chat id of the channel is required', 'channel ids look like -1001234567890');
    end if;
    if p_region is not null then
        perform core.clean_name(p_region, 'region', 2, 80);
    end if;
    if p_category_id is not null and not exists (select from core.categories as c where c.id = p_category_id) then
        perform core.raise_invalid(format('unknown category %s', p_category_id));
    end if;
    if exists (select from core.telegram_channels as ch
               where lower(ch.name) = lower(v_name) or ch.telegram_chat_id = p_telegram_chat_id) then
        raise exception using errcode = '23505', message = 'a channel with this name or chat id exists';
    end if;
    insert into core.telegram_channels (name, telegram_chat_id, region, category_id, created_by)
    values (v_name, p_telegram_chat_id, nullif(btrim(p_region), ''), p_category_id, v_user.id)
    returning id into v_id;
    perform core.audit(v_user.id, 'create_channel', null, null, null,
                       jsonb_build_object('channel_id', v_id, 'name', v_name, 'telegram_chat_id', p_telegram_chat_id));
    return v_id;
end
$$;
comment on function api.create_channel(text, text, bigint, text, bigint) is
'Staff add a Telegram channel that gets the listings published from now on in its region and/or '
'category subtree (neither: all). Audited. 28000/42501 token; 42501 not a moderator or admin; 22023 '
'bad name, chat id, region or category; 23505 name or chat id taken.';

create or replace function api.set_channel_active(p_token text, p_channel_id bigint, p_active boolean)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    perform core.require_platform_role(v_user, 'moderator');
    if p_active is null then
        perform core.raise_invalid('say whether the channel is active (true or false)');
    end if;
    update core.telegram_channels as ch set active = p_active where ch.id = p_channel_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no channel %s', p_channel_id);
    end if;
    perform core.audit(v_user.id, case when p_active then 'activate_channel' else 'deactivate_channel' end,
                       null, null, null, jsonb_build_object('channel_id', p_channel_id));
    return p_active;
end
$$;
comment on function api.set_channel_active(text, bigint, boolean) is
'Staff switch a channel on or off: an inactive one gets no new posts (posts it has still get edits). '
'Audited. 28000/42501 token; 42501 not staff; 22023 null; P0002 no channel.';

create or replace function api.channels(p_token text)
returns table (
    channel_id bigint, name text, telegram_chat_id bigint, region text, category_id bigint, category text,
    active boolean, posts bigint
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    perform core.require_platform_role(v_user, 'moderator');
    return query
    select ch.id, ch.name, ch.telegram_chat_id, ch.region, ch.category_id, c.name, ch.active,
        (select count(*) from core.channel_posts as p where p.channel_id = ch.id)
    from core.telegram_channels as ch left join core.categories as c on c.id = ch.category_id
    order by ch.id;
end
$$;
comment on function api.channels(text) is
'The configured Telegram channels with their post counts, for staff. 28000/42501 token; 42501 not staff.';

create or replace function api.channel_post_delivered(
    p_worker text, p_notification_id bigint, p_telegram_message_id bigint, p_photo text default null
) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.notifications;
begin
    if p_telegram_message_id is null or p_telegram_message_id <= 0 then
        perform core.raise_invalid('the Telegram message id must be a positive number');
    end if;
    if char_length(p_photo) not between 1 and 256 then
        perform core.raise_invalid('the photo is the storage key of the photo the message shows (1-256 characters)');
    end if;
    select n.* into v_row from core.notifications as n where n.id = p_notification_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no notification %s', p_notification_id);
    end if;
    if v_row.channel_post_id is null then
        raise exception using errcode = '55000',
            message = format('notification %s is not a channel post', p_notification_id),
            hint = 'acknowledge it with api.ack_notification',
            detail = '{"reason": "not_a_channel_post"}';
    end if;
    if core.ack_outbox(p_notification_id, p_worker) then
        -- the channel now shows this version: rows of one post are delivered in order
        update core.channel_posts as p set
            telegram_message_id = p_telegram_message_id,
            telegram_photo = p_photo,
            snapshot = v_row.payload -> 'snapshot',
            delivered_at = now()
        where p.id = v_row.channel_post_id;
    end if;
end
$$;
comment on function api.channel_post_delivered(text, bigint, bigint, text) is
'A worker reports that it posted (or edited) a channel post it holds: the channel message id is '
'recorded with P_PHOTO, the storage key of the photo a photo message shows (null: a text message; '
'the next claim hands both back, so edits go to the same message the same way), the post''s snapshot '
'becomes what was sent, and the outbox row is acknowledged. Twice is harmless. 22023 bad message id '
'or photo; P0002 no such notification; 55000 not a channel post, or not (or no longer) leased to this '
'worker.';
revoke execute on function api.channel_post_delivered(text, bigint, bigint, text) from bazaar_app;
grant execute on function api.channel_post_delivered(text, bigint, bigint, text) to bazaar_worker;

create or replace function api.channel_posts(p_listing_id bigint, p_token text default null)
returns table (
    post_id bigint, channel_id bigint, channel_name text, telegram_chat_id bigint, telegram_message_id bigint,
    channel_shows jsonb, site_shows jsonb, differences text[], pending_updates bigint,
    created_at timestamptz, delivered_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_site jsonb;
    v_staff boolean := false;
begin
    perform core.visible_listing(p_listing_id, p_token);
    if p_token is not null then
        v_staff := (core.authenticate(p_token)).role >= 'moderator';
    end if;
    v_site := core.channel_snapshot(p_listing_id);
    -- channel configuration (chat ids, inactive channels) is for staff, as in api.channels
    return query
    select p.id, ch.id, ch.name, case when v_staff then ch.telegram_chat_id end, p.telegram_message_id,
        p.snapshot, v_site,
        array(select k.key from jsonb_each(v_site) as k
              where p.snapshot -> k.key is distinct from k.value order by k.key),
        (select count(*) from core.notifications as n where n.channel_post_id = p.id and n.delivered_at is null),
        p.created_at, p.delivered_at
    from core.channel_posts as p join core.telegram_channels as ch on ch.id = p.channel_id
    where p.listing_id = p_listing_id and (ch.active or v_staff)
    order by p.id;
end
$$;
comment on function api.channel_posts(bigint, text) is
'A listing''s channel posts: what each channel shows (null until first delivered), what the site '
'shows, the fields where they differ (a price change shows here: it never edits a post), and the '
'updates still waiting in the outbox. Public for published, reserved and sold listings, else the '
'seller side or staff (P_TOKEN). Chat ids and inactive channels show to staff only. P0002 otherwise.';
