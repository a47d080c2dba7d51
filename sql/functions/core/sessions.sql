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
