create or replace function api.post_message(p_token text, p_listing_id bigint, p_body text) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_body text := core.clean_name(p_body, 'the message', 1, 2000);
    v_listing core.listings;
    v_recent integer;
    v_id bigint;
begin
    v_listing := core.find_listing(p_listing_id, '{published,reserved,sold}');
    if not v_listing.chat_enabled then
        raise exception using errcode = '55000', message = 'the chat of this listing is turned off',
            detail = '{"reason": "chat_disabled"}';
    end if;
    -- flood protection: one user's messages are counted under a per-user lock
    perform pg_advisory_xact_lock(hashtextextended('chat:' || v_user.id, 0));
    select count(*) into v_recent from core.chat_messages as m
    where m.author_id = v_user.id and m.created_at > now() - core.setting_interval('chat_flood_window');
    if v_recent >= core.setting_int('chat_flood_limit') then
        raise exception using
            errcode = 'BZ429',
            message = 'you are posting too fast',
            hint = format('at most %s messages per %s', core.setting_int('chat_flood_limit'),
                          core.setting('chat_flood_window') #>> '{}');
    end if;
    insert into core.chat_messages (listing_id, author_id, body) values (p_listing_id, v_user.id, v_body)
    returning id into v_id;
    return v_id;
end
$$;
comment on function api.post_message(text, bigint, text) is
'Post to the shared chat under a public listing (1-2000 characters). 28000/42501 token; P0002 no '
'listing; 55000 chat turned off; BZ429 flood limit; 22023 bad text.';

create or replace function api.chat_messages(
    p_listing_id bigint,
    p_token text default null,
    p_before_id bigint default null,
    p_limit integer default 50
) returns table (
    message_id bigint, author_id bigint, author_name text, body text, created_at timestamptz,
    deleted boolean
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_viewer core.users;
    v_listing core.listings;
    v_staff boolean := false;
begin
    if p_token is not null then
        v_viewer := core.authenticate(p_token);
        v_staff := v_viewer.role >= 'moderator';
    end if;
    perform core.check_limit(p_limit, 200);
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    if not found or (v_listing.status not in ('published', 'reserved', 'sold') and not v_staff) then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    -- a turned-off chat shows nothing, and deleted messages show to staff only: both are kept
    if not v_listing.chat_enabled and not v_staff then
        return;
    end if;
    return query
    select m.id, m.author_id, u.display_name, m.body, m.created_at, m.deleted_at is not null
    from core.chat_messages as m join core.users as u on u.id = m.author_id
    where m.listing_id = p_listing_id
        and (p_before_id is null or m.id < p_before_id)
        and (m.deleted_at is null or v_staff)
    order by m.id desc
    limit p_limit;
end
$$;
comment on function api.chat_messages(bigint, text, bigint, integer) is
'The chat of a listing, newest first, P_LIMIT before P_BEFORE_ID. Turned-off chats show nothing and '
'deleted messages are hidden, except to moderators (token). P0002 no listing; 22023 bad limit.';

create or replace function api.set_chat_enabled(p_token text, p_listing_id bigint, p_enabled boolean)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    if p_enabled is null then
        perform core.raise_invalid('say whether the chat is on (true) or off (false)');
    end if;
    if not core.may_manage_listing(v_user, v_listing) then
        perform core.require_platform_role(v_user, 'moderator');
        perform core.audit(v_user.id, 'set_chat_enabled', v_listing.seller_id, v_listing.shop_id, null,
                           jsonb_build_object('listing_id', p_listing_id, 'enabled', p_enabled));
    end if;
    update core.listings as l set chat_enabled = p_enabled where l.id = p_listing_id;
end
$$;
comment on function api.set_chat_enabled(text, bigint, boolean) is
'Turn a listing''s chat off (messages hidden, history kept) or on again: its seller side, or a moderator '
'(audited). 28000/42501; 42501 neither; P0002 no listing; 22023 no value.';

create or replace function api.delete_message(p_token text, p_message_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_message core.chat_messages;
    v_listing core.listings;
    v_roles jsonb := core.setting('chat_delete_roles');
begin
    select m.* into v_message from core.chat_messages as m where m.id = p_message_id for update;
    if not found or v_message.deleted_at is not null then
        raise exception using errcode = 'P0002', message = format('no message %s', p_message_id);
    end if;
    select l.* into v_listing from core.listings as l where l.id = v_message.listing_id;
    if not ((v_roles ? 'author' and v_message.author_id = v_user.id)
            or (v_roles ? 'listing_owner' and core.may_manage_listing(v_user, v_listing))
            or (v_roles ? 'moderator' and v_user.role >= 'moderator')) then
        raise exception using
            errcode = '42501',
            message = 'you may not delete this message',
            detail = format('chat_delete_roles allows: %s', v_roles);
    end if;
    update core.chat_messages as m set deleted_at = now(), deleted_by = v_user.id
    where m.id = p_message_id and m.created_at = v_message.created_at;
end
$$;
comment on function api.delete_message(text, bigint) is
'Delete a chat message (soft: moderators still see it). Who may is the chat_delete_roles setting '
'(author, listing_owner, moderator). 28000/42501; 42501 not allowed; P0002 no message.';
