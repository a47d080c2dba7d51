create or replace function api.link_telegram(p_token text, p_chat_id bigint, p_phone text) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_phone text := core.normalize_phone(p_phone);
begin
    if p_chat_id is null or p_chat_id = 0 then
        perform core.raise_invalid('a Telegram chat id is required');
    end if;
    if v_phone is null then
        perform core.raise_invalid('the phone number Telegram shared is required');
    end if;
    if v_user.phone is distinct from v_phone then
        raise exception using
            errcode = '42501',
            message = 'the phone number of this Telegram contact is not the phone of this account',
            hint = 'share the contact of the Telegram account that uses your phone number';
    end if;
    if exists (select from core.users as u where u.telegram_chat_id = p_chat_id and u.id <> v_user.id) then
        raise exception using errcode = '23505', message = 'this Telegram chat is linked to another account';
    end if;
    update core.users as u set telegram_chat_id = p_chat_id where u.id = v_user.id;
end
$$;
comment on function api.link_telegram(text, bigint, text) is
'Link the signed-in account to a Telegram chat. The bot passes the chat id and the phone number '
'Telegram shared with it; it must be the account''s phone. 28000 bad token; 42501 phone mismatch; '
'23505 chat linked elsewhere; 22023 bad argument.';

create or replace function api.request_sign_in_code(p_phone text)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_phone text := core.normalize_phone(p_phone);
    v_user core.users;
    v_code text;
    v_expires timestamptz := now() + core.setting_interval('sign_in_code_lifetime');
    v_window interval := core.setting_interval('sign_in_code_lockout_window');
    v_last timestamptz;
    v_today integer;
begin
    if v_phone is null then
        perform core.raise_invalid('a phone number is required');
    end if;
    -- Everything below is the same for a number with an account and one without (the code of the
    -- latter is stored and never sent), so asking tells nobody whether the number is registered.
    perform pg_advisory_xact_lock(hashtextextended('sign-in-code:' || v_phone, 0));
    select max(c.created_at), count(*) filter (where c.created_at > now() - v_window) into v_last, v_today
    from core.sign_in_codes as c where c.phone = v_phone;
    perform core.limit_code_requests(
        v_last, v_today,
        (select count(*) from core.sign_in_codes as c where c.created_at > now() - interval '1 minute')::integer,
        'sign in with your password'
    );
    select u.* into v_user from core.users as u
    where u.phone = v_phone and u.telegram_chat_id is not null and u.blocked_at is null;
    -- a new code replaces any code still pending
    update core.sign_in_codes as c set expires_at = now()
    where c.phone = v_phone and c.used_at is null and c.expires_at > now();
    v_code := core.new_code();
    insert into core.sign_in_codes (user_id, phone, code_hash, expires_at, max_attempts)
    values (v_user.id, v_phone, core.hash_secret(v_code), v_expires,
            core.setting_int('sign_in_code_max_attempts'));
    if v_user.id is not null and not core.sign_in_locked(v_phone) then
        -- only the Telegram chat of the account gets the code: the caller (the application) never sees it
        insert into core.notifications (user_id, channel, kind, payload)
        values (v_user.id, 'telegram', 'sign_in_code', jsonb_build_object('code', v_code, 'expires_at', v_expires));
    end if;
    return v_expires;
end
$$;
comment on function api.request_sign_in_code(text) is
'Ask for a six-digit sign-in code for a phone number. When the number belongs to an account with a '
'linked Telegram chat (not blocked, not locked out), the code is queued (outbox, kind sign_in_code) to '
'that chat; the caller never sees it. The answer (the code''s expiry) is the same whether or not the '
'number has such an account. Valid sign_in_code_lifetime, sign_in_code_max_attempts tries; at most one '
'per sign_in_code_resend_interval and sign_in_code_daily_limit per sign_in_code_lockout_window per '
'number, and sign_in_code_global_limit a minute for the marketplace (else BZ429). 22023 bad phone.';

create or replace function api.sign_in_with_code(p_phone text, p_code text)
returns table (token text, user_id bigint, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_phone text := core.normalize_phone(p_phone);
    v_user core.users;
    v_code core.sign_in_codes;
    v_matches boolean;
begin
    if v_phone is null then
        perform core.raise_invalid('a phone number is required');
    end if;
    perform core.check_code_format(p_code);
    -- codes belong to the number, registered or not: every answer below is the same for both
    perform pg_advisory_xact_lock(hashtextextended('sign-in-code:' || v_phone, 0));
    if core.sign_in_locked(v_phone) then
        raise exception using
            errcode = 'BZ429',
            message = 'too many wrong codes for this number today',
            hint = 'sign in with your password, or try again tomorrow';
    end if;
    select c.* into v_code from core.sign_in_codes as c
    where c.phone = v_phone
    order by c.created_at desc, c.id desc
    limit 1
    for update;
    select u.* into v_user from core.users as u where u.id = v_code.user_id;
    -- raises 28000 for no valid code: called on its own, since OR's operands run in no set order
    v_matches := core.code_matches(p_code, v_code.code_hash, v_code.used_at, v_code.expires_at, v_code.attempts,
                                   v_code.max_attempts, 'sign-in code for this phone');
    if not v_matches or v_user.id is null then
        -- counted, so not an exception (that would roll the count back): see api.login
        update core.sign_in_codes as c set attempts = c.attempts + 1 where c.id = v_code.id;
        if v_user.id is not null and core.sign_in_locked(v_phone) then
            -- the guess that reached the daily limit: the owner hears of it, once
            perform core.notify(v_user.id, 'sign_in_locked', jsonb_build_object(
                'phone', v_phone, 'until', now() + core.setting_interval('sign_in_code_lockout_window')));
        end if;
        perform core.warn_wrong_code(v_code.max_attempts - v_code.attempts - 1);
        return;
    end if;
    if v_user.blocked_at is not null then
        raise exception using errcode = '42501', message = 'this account is blocked', detail = v_user.blocked_reason;
    end if;
    update core.sign_in_codes as c set used_at = now() where c.id = v_code.id;
    return query select * from core.start_session(v_user.id, 'telegram_code');
end
$$;
comment on function api.sign_in_with_code(text, text) is
'Deprecated (ADR 0020): use api.sign_in with p_code. '
'Exchange a Telegram sign-in code for a session (token, user_id, expires_at). Wrong code: no row and a '
'WARNING with SQLSTATE 28P01 (the attempt is counted). Expired, used, superseded or burnt code: 28000. '
'sign_in_code_daily_failures wrong codes for the number within sign_in_code_lockout_window: BZ429 until '
'the window passes (the account is notified when it happens). Answers are the same for numbers with and '
'without an account. Blocked: 42501. 22023 bad argument.';

create or replace function api.request_telegram_link(p_token text, p_password text)
returns table (link_token text, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_token text := encode(ext.gen_random_bytes(16), 'hex');
    v_expires timestamptz := now() + core.setting_interval('telegram_link_lifetime');
begin
    -- Telegram becomes a way to sign in (codes go to the linked chat): whoever holds a session must
    -- also know the password to add one
    if not core.current_password_matches(v_user, p_password) then
        return;  -- counted: no exception, which would roll the count back
    end if;
    perform pg_advisory_xact_lock(hashtextextended('telegram-link:' || v_user.id, 0));
    if (select count(*) from core.telegram_link_tokens as t
        where t.user_id = v_user.id and t.created_at > now() - interval '1 hour')
       >= core.setting_int('telegram_link_hourly_limit') then
        raise exception using
            errcode = 'BZ429',
            message = 'too many links to connect Telegram were asked for in the last hour',
            hint = 'use the last one, or try again in an hour';
    end if;
    -- a new link replaces any still unused
    update core.telegram_link_tokens as t set expires_at = now()
    where t.user_id = v_user.id and t.used_at is null and t.expires_at > now();
    insert into core.telegram_link_tokens (user_id, token_hash, expires_at)
    values (v_user.id, core.token_hash(v_token), v_expires);
    return query select v_token, v_expires;
end
$$;
comment on function api.request_telegram_link(text, text) is
'A signed-in user asks to connect Telegram, confirming with the current password: a one-time link token '
'(32 hex characters) for https://t.me/<bot>?start=<token>, valid telegram_link_lifetime; a new one '
'replaces the last; ending the sessions (logout everywhere, a password change or reset, a block) voids '
'it. The bot links the chat that opens it (api.telegram_start). Wrong password: no row and a WARNING '
'28P01 (counted); BZ429 after too many, or beyond telegram_link_hourly_limit links an hour. 22023 '
'password missing or over 72 bytes; 28000/42501 token.';
