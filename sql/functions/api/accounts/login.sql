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
'Sign in with email or phone and password; returns one row (token, user_id, expires_at). Wrong login '
'or password: no row and a WARNING with SQLSTATE 28P01 (the failure is recorded, so it cannot be an '
'error). After sign_in_failure_limit failures within sign_in_failure_window: BZ429. Blocked: 42501. '
'22023 bad argument (a password over 72 bytes included).';
