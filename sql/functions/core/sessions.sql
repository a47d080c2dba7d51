create or replace function core.token_hash(p_token text) returns bytea
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$ select ext.digest(p_token, 'sha256') $$;
comment on function core.token_hash(text) is 'SHA-256 of a session token: what core.sessions stores.';

create or replace function core.start_session(p_user_id bigint, p_method text)
returns table (token text, user_id bigint, expires_at timestamptz)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_token text := encode(ext.gen_random_bytes(32), 'hex');
    v_expires timestamptz := now() + core.setting_interval('session_lifetime');
begin
    insert into core.sessions (user_id, token_hash, method, expires_at)
    values (p_user_id, core.token_hash(v_token), p_method, v_expires);
    return query select v_token, p_user_id, v_expires;
end
$$;
comment on function core.start_session(bigint, text) is
'Open a session: a random 256-bit token, returned once; only its hash is stored.';

create or replace function core.authenticate(p_token text) returns core.users
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_session core.sessions;
    v_user core.users;
begin
    if p_token is null or p_token !~ '^[0-9a-f]{64}$' then
        raise exception using
            errcode = '28000',
            message = 'not signed in: the session token is missing or malformed',
            hint = 'sign in to get a token';
    end if;
    select s.* into v_session from core.sessions as s where s.token_hash = core.token_hash(p_token);
    if not found or v_session.revoked_at is not null or v_session.expires_at <= now() then
        raise exception using
            errcode = '28000',
            message = 'the session has expired or was signed out',
            hint = 'sign in again';
    end if;
    select u.* into strict v_user from core.users as u where u.id = v_session.user_id;
    if v_user.blocked_at is not null then
        raise exception using
            errcode = '42501',
            message = 'your account is blocked',
            detail = v_user.blocked_reason;
    end if;
    return v_user;
end
$$;
comment on function core.authenticate(text) is
'Resolve a session token to its user: 28000 when missing, unknown, expired or revoked; 42501 when blocked.';

create or replace function core.require_platform_role(p_user core.users, p_role core.user_role) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    -- admin > moderator > user: an admin has every moderator power.
    if p_user.role < p_role then
        raise exception using
            errcode = '42501',
            message = format('only %ss may do this', p_role);
    end if;
end
$$;
comment on function core.require_platform_role(core.users, core.user_role) is
'42501 unless the user holds ROLE or a higher one (admin > moderator > user).';

create or replace function core.check_registration_rate(p_fingerprint text) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_window interval := core.setting_interval('registration_window');
    v_oldest timestamptz;
begin
    if p_fingerprint is not null then
        -- one client's registrations are counted one at a time
        perform pg_advisory_xact_lock(hashtextextended('registration:' || p_fingerprint, 0));
        select min(r.created_at) into v_oldest from (
            select u.created_at from core.users as u
            where u.signup_fingerprint = p_fingerprint and u.created_at > now() - v_window
            order by u.created_at desc
            limit core.setting_int('registration_limit')
        ) as r
        having count(*) >= core.setting_int('registration_limit');
        if found then
            raise exception using
                errcode = 'BZ429',
                message = 'too many accounts were opened from this device',
                hint = format('try again after %s', to_char(v_oldest + v_window, 'YYYY-MM-DD HH24:MI TZ'));
        end if;
    end if;
    if (select count(*) from core.users as u where u.created_at > now() - interval '1 minute')
        >= core.setting_int('registration_global_limit') then
        raise exception using
            errcode = 'BZ429',
            message = 'the marketplace is opening too many accounts right now',
            hint = 'try again in a minute';
    end if;
end
$$;
comment on function core.check_registration_rate(text) is
'BZ429 when the client (fingerprint) opened registration_limit accounts within registration_window, or '
'the marketplace registration_global_limit within the last minute.';

create or replace function core.sign_in_locked(p_phone text) returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return (
        select coalesce(sum(c.attempts), 0) >= core.setting_int('sign_in_code_daily_failures')
        from core.sign_in_codes as c
        where c.phone = p_phone and c.created_at > now() - core.setting_interval('sign_in_code_lockout_window')
    );
end
$$;
comment on function core.sign_in_locked(text) is
'Whether the number entered sign_in_code_daily_failures wrong codes within sign_in_code_lockout_window: '
'its codes stop working until the oldest of those falls out of the window.';

create or replace function core.hash_secret(p_secret text) returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    return ext.crypt(p_secret, ext.gen_salt('bf', core.setting_int('bcrypt_cost')));
end
$$;
comment on function core.hash_secret(text) is
'A bcrypt hash of a password or a one-time code, at the bcrypt_cost setting.';

create or replace function core.new_code() returns text
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
    -- six uniformly random digits (the modulo bias over 2^32 is below 0.03 %)
    select lpad(((('x' || encode(ext.gen_random_bytes(4), 'hex'))::bit(32)::bigint % 1000000))::text, 6, '0')
$$;
comment on function core.new_code() is 'A six-digit one-time code (sign-in, password reset).';

create or replace function core.identifier_key(p_identifier text) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_identifier is null or btrim(p_identifier) = '' then
        perform core.raise_invalid('an email address or phone number is required');
    end if;
    if position('@' in p_identifier) > 0 then
        return 'email:' || core.normalize_email(p_identifier);
    end if;
    return 'phone:' || core.normalize_phone(p_identifier);
end
$$;
comment on function core.identifier_key(text) is
'What a person signs in with, normalised and typed: email:name@example.com or phone:+79161234567; '
'22023 when it is neither.';

create or replace function core.user_by_identifier(p_key text) returns core.users
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users;
begin
    if p_key like 'email:%' then
        select u.* into v_user from core.users as u where u.email = substr(p_key, 7);
    else
        select u.* into v_user from core.users as u where u.phone = substr(p_key, 7);
    end if;
    return v_user;
end
$$;
comment on function core.user_by_identifier(text) is
'The account an identifier key (core.identifier_key) names, or a row of nulls.';

create or replace function core.limit_failures(p_key text, p_message text) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_window interval := core.setting_interval('sign_in_failure_window');
    v_failures integer;
    v_oldest timestamptz;
begin
    -- one attempt per key at a time, so concurrent guesses are all counted
    perform pg_advisory_xact_lock(hashtextextended(p_key, 0));
    select count(*), min(f.failed_at) into v_failures, v_oldest
    from core.sign_in_failures as f
    where f.identifier = p_key and f.failed_at > now() - v_window;
    if v_failures >= core.setting_int('sign_in_failure_limit') then
        raise exception using
            errcode = 'BZ429',
            message = p_message,
            hint = format('try again after %s', to_char(v_oldest + v_window, 'YYYY-MM-DD HH24:MI:SS TZ'));
    end if;
end
$$;
comment on function core.limit_failures(text, text) is
'Serialise the password checks of P_KEY (a login identifier, or password-check:<user id>) and raise '
'BZ429 with P_MESSAGE after sign_in_failure_limit failures within sign_in_failure_window.';

create or replace function core.limit_code_requests(
    p_last timestamptz, p_today integer, p_last_minute integer, p_hint text
) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_last > now() - core.setting_interval('sign_in_code_resend_interval') then
        raise exception using
            errcode = 'BZ429',
            message = 'a code was sent moments ago',
            hint = format('wait until %s before asking for another',
                          to_char(p_last + core.setting_interval('sign_in_code_resend_interval'), 'HH24:MI:SS'));
    end if;
    if p_today >= core.setting_int('sign_in_code_daily_limit') then
        raise exception using
            errcode = 'BZ429',
            message = 'too many codes were asked for today',
            hint = p_hint || ', or try again tomorrow';
    end if;
    -- every request costs a bcrypt hash and a row, whatever the identifier: the whole marketplace
    -- issues at most so many a minute
    if p_last_minute >= core.setting_int('sign_in_code_global_limit') then
        raise exception using
            errcode = 'BZ429',
            message = 'too many codes are being asked for right now',
            hint = p_hint || ', or try again in a minute';
    end if;
end
$$;
comment on function core.limit_code_requests(timestamptz, integer, integer, text) is
'The limits on asking for one-time codes (sign-in, password reset), BZ429 with P_HINT: one per '
'sign_in_code_resend_interval after P_LAST, sign_in_code_daily_limit (P_TODAY asked already), and '
'sign_in_code_global_limit a minute for the marketplace (P_LAST_MINUTE).';

create or replace function core.check_code_format(p_code text) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_code is null or char_length(p_code) > 20 or btrim(p_code) !~ '^[0-9]{6}$' then
        perform core.raise_invalid('the code is six digits');
    end if;
end
$$;
comment on function core.check_code_format(text) is
'A one-time code is six digits (spaces around allowed); 22023.';

create or replace function core.code_matches(
    p_code text, p_hash text, p_used_at timestamptz, p_expires_at timestamptz, p_attempts integer,
    p_max_attempts integer, p_what text
) returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_hash is null or p_used_at is not null or p_expires_at <= now() then
        raise exception using
            errcode = '28000',
            message = format('no valid %s: it expired, was used, or was never sent', p_what),
            hint = 'request a new code';
    end if;
    if p_attempts >= p_max_attempts then
        raise exception using
            errcode = '28000',
            message = 'too many wrong entries: this code no longer works',
            hint = 'request a new code';
    end if;
    return ext.crypt(btrim(p_code), p_hash) = p_hash;
end
$$;
comment on function core.code_matches(text, text, timestamptz, timestamptz, integer, integer, text) is
'Whether P_CODE is the one-time code hashed in P_HASH; 28000 when there is no valid code (none, used, '
'expired: named P_WHAT in the message) or its attempts are spent.';

create or replace function core.warn_wrong_code(p_attempts_left integer) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    -- a warning, not an exception: the counted attempt must be committed (see api.login)
    raise warning using
        errcode = '28P01',
        message = 'wrong code',
        detail = format('%s attempt(s) left', p_attempts_left);
end
$$;
comment on function core.warn_wrong_code(integer) is
'The WARNING 28P01 of a wrong one-time code, with the attempts left.';

create or replace function core.end_sessions(p_user_id bigint, p_keep_token text default null) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_ended integer;
begin
    update core.sessions as s set revoked_at = now()
    where s.user_id = p_user_id and s.revoked_at is null
        and (p_keep_token is null or s.token_hash <> core.token_hash(p_keep_token));
    get diagnostics v_ended = row_count;
    -- a link to connect Telegram asked for in an ended session must not outlive it
    update core.telegram_link_tokens as t set expires_at = now()
    where t.user_id = p_user_id and t.used_at is null and t.expires_at > now();
    return v_ended;
end
$$;
comment on function core.end_sessions(bigint, text) is
'End every session of the user but the one of P_KEEP_TOKEN (when given), and the links to connect '
'Telegram still unused; returns how many sessions ended.';

create or replace function core.current_password_matches(p_user core.users, p_password text) returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_key text := 'password-check:' || p_user.id;
begin
    if p_password is null or p_password = '' then
        perform core.raise_invalid('the current password is required');
    end if;
    if octet_length(p_password) > 72 then
        perform core.raise_invalid('a password is at most 72 bytes long');
    end if;
    -- a stolen session must not become a password oracle: wrong guesses are counted like sign-ins
    perform core.limit_failures(v_key, 'too many wrong current passwords');
    if ext.crypt(p_password, p_user.password_hash) <> p_user.password_hash then
        insert into core.sign_in_failures (identifier, user_id) values (v_key, p_user.id);
        raise warning using errcode = '28P01', message = 'the current password is wrong';
        return false;
    end if;
    delete from core.sign_in_failures as f where f.identifier = v_key;
    return true;
end
$$;
comment on function core.current_password_matches(core.users, text) is
'Re-authentication inside a session (a password change, connecting Telegram): true when P_PASSWORD is '
'the user''s; false with a WARNING 28P01 and a counted failure (the caller returns no row, so the count '
'stays); BZ429 after sign_in_failure_limit wrong ones within sign_in_failure_window; 22023 missing or '
'over 72 bytes.';
