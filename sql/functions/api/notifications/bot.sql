-- The Telegram bot (issue 16): the delivery worker reads the bot's updates (getUpdates, one worker
-- at a time under a lease) and passes what people say to these functions: /start with a link
-- token links the chat to an account, a shared contact fills the account's phone.

create or replace function api.telegram_poll(p_worker text) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_next bigint;
begin
    perform core.check_worker_name(p_worker);
    update core.telegram_bot as b
    set poller = p_worker, poll_until = now() + core.setting_interval('telegram_poll_lease')
    where b.id = 1 and (b.poller = p_worker or b.poll_until is null or b.poll_until < now())
    returning b.next_update_id into v_next;
    return v_next;
end
$$;
comment on function api.telegram_poll(text) is
'A worker takes (or renews, for telegram_poll_lease) the right to read the bot''s updates: the '
'getUpdates offset to ask for, or null while another worker holds it. 22023 bad worker name; 42501 '
'for any role but bazaar_worker.';
revoke execute on function api.telegram_poll(text) from bazaar_app;
grant execute on function api.telegram_poll(text) to bazaar_worker;

create or replace function api.telegram_polled(p_worker text, p_next_update_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform core.check_worker_name(p_worker);
    if p_next_update_id is null or p_next_update_id < 0 then
        perform core.raise_invalid('the next update id is a number from 0');
    end if;
    -- handling updates renews the lease as polling does: a slow batch is not taken over halfway
    update core.telegram_bot as b set
        next_update_id = greatest(b.next_update_id, p_next_update_id),
        poll_until = now() + core.setting_interval('telegram_poll_lease')
    where b.id = 1 and b.poller = p_worker;
    if not found then
        raise exception using
            errcode = '55000',
            message = format('%s does not read the bot''s updates', p_worker),
            hint = 'take the lease with api.telegram_poll first',
            detail = '{"reason": "not_the_poller"}';
    end if;
end
$$;
comment on function api.telegram_polled(text, bigint) is
'The worker reading the bot''s updates records that it handled those below P_NEXT_UPDATE_ID (never '
'moves back) and renews its lease. 22023 bad argument; 55000 the worker does not hold the lease.';
revoke execute on function api.telegram_polled(text, bigint) from bazaar_app;
grant execute on function api.telegram_polled(text, bigint) to bazaar_worker;

create or replace function api.telegram_start(p_link_token text, p_chat_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_link core.telegram_link_tokens;
    v_user core.users;
begin
    if p_link_token is null or p_link_token !~ '^[0-9a-f]{32}$' then
        perform core.raise_invalid('this is not a link to connect Telegram', 'ask the app for a new link');
    end if;
    if p_chat_id is null or p_chat_id <= 0 then
        perform core.raise_invalid('only a private chat with the bot can be linked');
    end if;
    select t.* into v_link from core.telegram_link_tokens as t
    where t.token_hash = core.token_hash(p_link_token)
    for update;
    if v_link.used_at is not null and v_link.chat_id = p_chat_id then
        return;  -- the same update read again after a restart: done already
    end if;
    if v_link.id is null or v_link.used_at is not null or v_link.expires_at <= now() then
        raise exception using
            errcode = '28000', message = 'this link to connect Telegram has expired or was used',
            hint = 'ask the app for a new link';
    end if;
    select u.* into v_user from core.users as u where u.id = v_link.user_id for update;
    if v_user.blocked_at is not null then
        raise exception using errcode = '42501', message = 'this account is blocked';
    end if;
    if exists (select from core.users as u where u.telegram_chat_id = p_chat_id and u.id <> v_user.id) then
        raise exception using
            errcode = '23505', message = 'this Telegram chat is linked to another account',
            hint = 'unlink it there first';
    end if;
    update core.telegram_link_tokens as t set used_at = now(), chat_id = p_chat_id where t.id = v_link.id;
    update core.users as u set telegram_chat_id = p_chat_id where u.id = v_user.id;
    -- the owner hears of it on every channel (an e-mail says so if it was not them)
    perform core.notify(v_user.id, 'telegram_linked',
                        jsonb_build_object('at', now(), 'replaced', v_user.telegram_chat_id is not null));
    perform core.audit(v_user.id, 'link_telegram', v_user.id, null, null,
                       jsonb_build_object('replaced', v_user.telegram_chat_id is not null));
end
$$;
comment on function api.telegram_start(text, bigint) is
'The bot passes /start <link token> from the private chat P_CHAT_ID: the chat is linked to the account '
'that asked for the link (api.request_telegram_link), replacing a chat linked before. The same chat '
'again is harmless. The owner is notified (telegram_linked); audited. 22023 not a link token, or not a '
'private chat; 28000 unknown, used or '
'expired link; 42501 account blocked; 23505 the chat is linked to another account.';
revoke execute on function api.telegram_start(text, bigint) from bazaar_app;
grant execute on function api.telegram_start(text, bigint) to bazaar_worker;

create or replace function api.telegram_contact(p_chat_id bigint, p_phone text, p_contact_user_id bigint)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_phone text;
    v_user core.users;
begin
    if p_chat_id is null or p_chat_id <= 0 then
        perform core.raise_invalid('only a private chat with the bot can share a phone');
    end if;
    -- Telegram sends numbers without the plus: 79161234567
    v_phone := core.normalize_phone(case when p_phone ~ '^[1-9][0-9]{7,14}$' then '+' || p_phone else p_phone end);
    if v_phone is null then
        perform core.raise_invalid('the contact has no phone number');
    end if;
    -- Telegram vouches for the number of the person's own account only: their contact is theirs
    if p_contact_user_id is distinct from p_chat_id then
        raise exception using
            errcode = '42501', message = 'this contact is not the one of the Telegram account in the chat',
            hint = 'share your own contact with the button under the message';
    end if;
    select u.* into v_user from core.users as u where u.telegram_chat_id = p_chat_id for update;
    if not found then
        raise exception using
            errcode = 'P0002', message = 'no account is linked to this Telegram chat',
            hint = 'open the link to connect Telegram from the app first';
    end if;
    if v_user.blocked_at is not null then
        raise exception using errcode = '42501', message = 'this account is blocked';
    end if;
    if v_user.phone is not distinct from v_phone then
        return false;
    end if;
    if exists (select from core.users as u where u.phone = v_phone and u.id <> v_user.id) then
        raise exception using errcode = '23505', message = 'this phone number belongs to another account';
    end if;
    update core.users as u set phone = v_phone where u.id = v_user.id;
    -- codes sent for the old number stop working
    update core.sign_in_codes as c set expires_at = now()
    where c.user_id = v_user.id and c.used_at is null and c.expires_at > now();
    perform core.audit(v_user.id, 'telegram_phone', v_user.id, null, null,
                       jsonb_build_object('replaced', v_user.phone is not null));
    perform core.notify(v_user.id, 'phone_changed', jsonb_build_object('at', now(), 'how', 'telegram'));
    return true;
end
$$;
comment on function api.telegram_contact(bigint, text, bigint) is
'The bot passes a contact shared in the private chat P_CHAT_ID: when it is the person''s own '
'(P_CONTACT_USER_ID is the chat''s user), its phone becomes the phone of the account linked to the '
'chat, so sign-in codes reach them (true; false when it already was). Codes pending for an old number '
'stop working. The owner is notified (phone_changed); audited. 22023 bad chat or phone; 42501 someone '
'else''s contact, or the account is blocked; P0002 no account linked to the chat; 23505 the phone '
'belongs to another account.';
revoke execute on function api.telegram_contact(bigint, text, bigint) from bazaar_app;
grant execute on function api.telegram_contact(bigint, text, bigint) to bazaar_worker;
