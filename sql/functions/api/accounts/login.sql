create or replace function api.login(p_identifier text, p_password text)
returns table (token text, user_id bigint, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_key text;
    v_user core.users;
begin
    v_key := core.identifier_key(p_identifier);
    if p_password is null or p_password = '' then
        perform core.raise_invalid('a password is required');
    end if;
    if octet_length(p_password) > 72 then
        -- no password is longer (core.check_password): refuse before hashing a megabyte
        perform core.raise_invalid('a password is at most 72 bytes long');
    end if;
    v_user := core.user_by_identifier(v_key);

    perform core.limit_failures(v_key, 'too many failed sign-in attempts');
    if v_user.id is null or ext.crypt(p_password, v_user.password_hash) <> v_user.password_hash then
        if v_user.id is null then
            -- cost the same as a real check, so timing does not tell which part was wrong
            perform core.hash_secret(p_password);
        end if;
        -- The failure must outlive this call, so it is not an exception (that would roll the
        -- record back): a WARNING carries SQLSTATE 28P01 and the function returns no row.
        insert into core.sign_in_failures (identifier, user_id) values (v_key, v_user.id);
        raise warning using errcode = '28P01', message = 'wrong login or password';
        return;
    end if;
    if v_user.blocked_at is not null then
        raise exception using errcode = '42501', message = 'this account is blocked', detail = v_user.blocked_reason;
    end if;
    delete from core.sign_in_failures as f where f.identifier = v_key;
    return query select * from core.start_session(v_user.id, 'password');
end
$$;
comment on function api.login(text, text) is
'Deprecated (ADR 0020): use api.sign_in, which answers the outcome in its row. '
'Sign in with email or phone and password; returns one row (token, user_id, expires_at). Wrong login '
'or password: no row and a WARNING with SQLSTATE 28P01 (the failure is recorded, so it cannot be an '
'error). After sign_in_failure_limit failures within sign_in_failure_window: BZ429. Blocked: 42501. '
'22023 bad argument (a password over 72 bytes included).';

create or replace function api.sign_in(
    p_identifier text, p_password text default null, p_code text default null
)
returns table (outcome text, token text, user_id bigint, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if (p_password is null) = (p_code is null) then
        perform core.raise_invalid('sign in with a password or a code (one of them)');
    end if;
    -- the same checks, limits and failure records as api.login and api.sign_in_with_code; the
    -- outcome in the row itself, for clients whose driver or pool drops the WARNING
    if p_code is null then
        return query select 'signed_in', l.token, l.user_id, l.expires_at
        from api.login(p_identifier, p_password) as l;
    else
        return query select 'signed_in', c.token, c.user_id, c.expires_at
        from api.sign_in_with_code(p_identifier, p_code) as c;
    end if;
    if not found then
        return query select case when p_code is null then 'wrong_password' else 'wrong_code' end,
            null::text, null::bigint, null::timestamptz;
    end if;
end
$$;
comment on function api.sign_in(text, text, text) is
'Sign in with an e-mail or phone and a password, or a phone and a Telegram code (P_CODE): always one '
'row, whose outcome says signed_in (with token, user_id, expires_at), wrong_password or wrong_code '
'(the failure is recorded as api.login and api.sign_in_with_code record it; their WARNING 28P01 is '
'raised too). The same limits: BZ429 after too many failures; 28000 no valid code; 42501 blocked; '
'22023 bad argument, or neither or both of password and code.';
