create or replace function api.register(
    p_display_name text,
    p_password text,
    p_email text default null,
    p_phone text default null,
    p_notification_channels text[] default null,
    p_fingerprint text default null
) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_name text := core.clean_display_name(p_display_name, 'display name', 1, 80);
    v_email text := core.normalize_email(nullif(btrim(p_email), ''));
    v_phone text := core.normalize_phone(nullif(btrim(p_phone), ''));
    v_channels core.notification_channel[];
    v_id bigint;
begin
    if v_email is null and v_phone is null then
        perform core.raise_invalid('an email address or a phone number is required');
    end if;
    perform core.check_password(p_password);
    v_channels := core.notification_channels(p_notification_channels, v_email, v_phone, null);
    if p_fingerprint is not null and char_length(p_fingerprint) not between 8 and 128 then
        perform core.raise_invalid('the client fingerprint must be 8-128 characters');
    end if;
    perform core.check_registration_rate(p_fingerprint);
    if exists (select from core.users as u where u.email = v_email) then
        raise exception using errcode = '23505', message = 'an account with this email address already exists',
            hint = 'sign in, or use another address';
    end if;
    if exists (select from core.users as u where u.phone = v_phone) then
        raise exception using errcode = '23505', message = 'an account with this phone number already exists',
            hint = 'sign in, or use another number';
    end if;
    begin
        insert into core.users (display_name, email, phone, password_hash, notification_channels, signup_fingerprint)
        values (v_name, v_email, v_phone,
                core.hash_secret(p_password), v_channels, p_fingerprint)
        returning id into v_id;
    exception
        when unique_violation then
            -- a concurrent registration won the race between the checks above and the insert
            raise exception using errcode = '23505', message = 'an account with this email or phone already exists';
    end;
    return v_id;
end
$$;
comment on function api.register(text, text, text, text, text[], text) is
'Create an account: display name (1-80 chars, no control or invisible characters), password (8 chars to '
'72 bytes, stored as bcrypt), email and/or phone (normalised, unique), notification channels '
'(telegram|email|sms; default: all the contacts allow), and the client fingerprint the application '
'derives from the device or network (8-128 chars; at most registration_limit accounts per fingerprint '
'per registration_window; the marketplace opens at most registration_global_limit a minute). Returns '
'the user id. 22023 bad argument; 23505 email or phone taken; BZ429 too many registrations.';
