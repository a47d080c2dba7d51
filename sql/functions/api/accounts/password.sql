create or replace function api.change_password(p_token text, p_old_password text, p_new_password text)
returns table (sessions_ended integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_revoked integer;
begin
    perform core.check_password(p_new_password);
    if p_new_password = p_old_password then
        perform core.raise_invalid('the new password is the same as the current one');
    end if;
    if not core.current_password_matches(v_user, p_old_password) then
        return;  -- counted: no exception, which would roll the count back
    end if;
    update core.users as u set password_hash = core.hash_secret(p_new_password) where u.id = v_user.id;
    -- reset codes asked for before the change stop working, whichever identifier they were for
    update core.password_reset_codes as c set expires_at = now()
    where c.user_id = v_user.id and c.used_at is null and c.expires_at > now();
    -- every other session ends: whoever else knew the old password is signed out
    v_revoked := core.end_sessions(v_user.id, p_token);
    perform core.notify(v_user.id, 'password_changed', jsonb_build_object('at', now(), 'how', 'changed'));
    return query select v_revoked;
end
$$;
comment on function api.change_password(text, text, text) is
'Change the signed-in user''s password: the current one is required, the new one is 8 characters to '
'72 bytes and differs from it. Every other session of the user ends (one row: sessions_ended); the '
'user is notified (password_changed). Wrong current password: no row and a WARNING with SQLSTATE '
'28P01 (counted); after sign_in_failure_limit wrong ones within sign_in_failure_window: BZ429. '
'28000/42501 token; 22023 bad argument.';

create or replace function api.request_password_reset(p_identifier text)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_key text := core.identifier_key(p_identifier);
    v_user core.users;
    v_code text;
    v_expires timestamptz := now() + core.setting_interval('sign_in_code_lifetime');
    v_window interval := core.setting_interval('sign_in_code_lockout_window');
    v_last timestamptz;
    v_today integer;
begin
    -- Everything below is the same for an identifier with an account and one without (the code of
    -- the latter is stored and never sent), so asking tells nobody whether the account exists.
    perform pg_advisory_xact_lock(hashtextextended('password-reset:' || v_key, 0));
    select max(c.created_at), count(*) filter (where c.created_at > now() - v_window) into v_last, v_today
    from core.password_reset_codes as c where c.identifier = v_key;
    perform core.limit_code_requests(
        v_last, v_today,
        (select count(*) from core.password_reset_codes as c where c.created_at > now() - interval '1 minute')::integer,
        'sign in with your password if you remember it'
    );
    v_user := core.user_by_identifier(v_key);
    -- a new code replaces any code still pending
    update core.password_reset_codes as c set expires_at = now()
    where c.identifier = v_key and c.used_at is null and c.expires_at > now();
    v_code := core.new_code();
    insert into core.password_reset_codes (identifier, user_id, code_hash, expires_at, max_attempts)
    values (v_key, v_user.id, core.hash_secret(v_code), v_expires, core.setting_int('sign_in_code_max_attempts'));
    if v_user.id is not null and v_user.blocked_at is null then
        -- through every channel of the account: the caller (the application) never sees the code
        perform core.notify(
            v_user.id, 'password_reset_code', jsonb_build_object('code', v_code, 'expires_at', v_expires)
        );
    end if;
    return v_expires;
end
$$;
comment on function api.request_password_reset(text) is
'Ask for a six-digit password reset code for an email address or phone number. When it belongs to an '
'account (not blocked), the code is queued to the account''s notification channels (outbox, kind '
'password_reset_code); the caller never sees it. The answer (the code''s expiry) is the same whether or '
'not there is such an account. Valid sign_in_code_lifetime, sign_in_code_max_attempts tries; at most one '
'per sign_in_code_resend_interval and sign_in_code_daily_limit per sign_in_code_lockout_window per '
'identifier, and sign_in_code_global_limit a minute for the marketplace (else BZ429). 22023 bad identifier.';

create or replace function api.reset_password(p_identifier text, p_code text, p_new_password text)
returns table (sessions_ended integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_key text := core.identifier_key(p_identifier);
    v_user core.users;
    v_code core.password_reset_codes;
    v_matches boolean;
    v_revoked integer;
begin
    perform core.check_code_format(p_code);
    -- checked before the code, so a password the api refuses does not cost an attempt
    perform core.check_password(p_new_password);
    -- codes belong to the identifier, with an account or not: every answer below is the same for both
    perform pg_advisory_xact_lock(hashtextextended('password-reset:' || v_key, 0));
    select c.* into v_code from core.password_reset_codes as c
    where c.identifier = v_key
    order by c.created_at desc, c.id desc
    limit 1
    for update;
    select u.* into v_user from core.users as u where u.id = v_code.user_id;
    -- raises 28000 for no valid code: called on its own, since OR's operands run in no set order
    v_matches := core.code_matches(p_code, v_code.code_hash, v_code.used_at, v_code.expires_at, v_code.attempts,
                                   v_code.max_attempts, 'password reset code');
    if not v_matches or v_user.id is null then
        -- counted, so not an exception (that would roll the count back): see api.login
        update core.password_reset_codes as c set attempts = c.attempts + 1 where c.id = v_code.id;
        perform core.warn_wrong_code(v_code.max_attempts - v_code.attempts - 1);
        return;
    end if;
    if v_user.blocked_at is not null then
        raise exception using errcode = '42501', message = 'this account is blocked', detail = v_user.blocked_reason;
    end if;
    update core.password_reset_codes as c set used_at = now() where c.id = v_code.id;
    -- the account's other pending codes (its other identifier's) stop working too
    update core.password_reset_codes as c set expires_at = now()
    where c.user_id = v_user.id and c.used_at is null and c.expires_at > now();
    update core.users as u set password_hash = core.hash_secret(p_new_password) where u.id = v_user.id;
    -- every session ends, and the password lockout is lifted: the owner proved the account is theirs
    v_revoked := core.end_sessions(v_user.id);
    delete from core.sign_in_failures as f
    where f.identifier in (v_key, 'email:' || v_user.email, 'phone:' || v_user.phone);
    perform core.notify(v_user.id, 'password_changed', jsonb_build_object('at', now(), 'how', 'reset'));
    return query select v_revoked;
end
$$;
comment on function api.reset_password(text, text, text) is
'Set a new password with the code from api.request_password_reset: every session of the account ends '
'(one row: sessions_ended), failed sign-ins are forgotten, the user is notified (password_changed). '
'Wrong code: no row and a WARNING with SQLSTATE 28P01 (the attempt is counted). Expired, used, superseded or '
'burnt code: 28000. Answers are the same for identifiers with and without an account. Blocked: 42501. '
'22023 bad argument (the new password is checked before the code).';
