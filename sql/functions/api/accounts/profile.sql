create or replace function api.me(p_token text)
returns table (
    id bigint,
    display_name text,
    email text,
    phone text,
    telegram_chat_id bigint,
    role text,
    notification_channels text[],
    created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    return query select v_user.id, v_user.display_name, v_user.email, v_user.phone, v_user.telegram_chat_id,
        v_user.role::text, v_user.notification_channels::text[], v_user.created_at;
end
$$;
comment on function api.me(text) is 'The signed-in user''s own account, contacts included. 28000 bad token.';

create or replace function api.user_profile(p_user_id bigint)
returns table (id bigint, display_name text, role text, member_since timestamptz, blocked boolean)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return query
    select u.id, u.display_name, u.role::text, u.created_at, u.blocked_at is not null
    from core.users as u where u.id = p_user_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no user %s', p_user_id);
    end if;
end
$$;
comment on function api.user_profile(bigint) is
'Public profile of a user (no contacts); no token needed. P0002 unknown user.';

create or replace function api.set_notification_channels(p_token text, p_channels text[])
returns text[]
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_channels core.notification_channel[];
begin
    if p_channels is null or cardinality(p_channels) = 0 then
        perform core.raise_invalid('at least one notification channel is required');
    end if;
    v_channels := core.notification_channels(p_channels, v_user.email, v_user.phone, v_user.telegram_chat_id);
    update core.users as u set notification_channels = v_channels where u.id = v_user.id;
    return v_channels::text[];
end
$$;
comment on function api.set_notification_channels(text, text[]) is
'Choose notification channels (telegram|email|sms; each needs its contact; several for recovery). '
'Returns the channels set. 28000 bad token; 22023 unknown channel or missing contact.';
