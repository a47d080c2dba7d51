-- Argument checks shared by the api functions. Each raises 22023 with a message a person
-- understands, naming the argument, so callers never repeat the rules.

create or replace function core.raise_invalid(p_message text, p_hint text default null) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_hint is null then
        raise exception using errcode = '22023', message = p_message;
    end if;
    raise exception using errcode = '22023', message = p_message, hint = p_hint;
end
$$;
comment on function core.raise_invalid(text, text) is
'Raise 22023 invalid_parameter_value with MESSAGE (and HINT).';

create or replace function core.normalize_email(p_email text) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_email text := lower(btrim(p_email));
begin
    if p_email is null then
        return null;
    end if;
    if v_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' or char_length(v_email) > 254 then
        perform core.raise_invalid(format('"%s" is not an email address', p_email), 'use name@example.com');
    end if;
    return v_email;
end
$$;
comment on function core.normalize_email(text) is
'Trim and lower-case an email address; 22023 when it is not one. NULL stays NULL.';

create or replace function core.normalize_phone(p_phone text) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_phone text := regexp_replace(p_phone, '[[:space:]().-]', '', 'g');
begin
    if p_phone is null then
        return null;
    end if;
    -- Russian numbers are often written 8XXXXXXXXXX or 7XXXXXXXXXX.
    if v_phone ~ '^8[0-9]{10}$' then
        v_phone := '+7' || substr(v_phone, 2);
    elsif v_phone ~ '^7[0-9]{10}$' then
        v_phone := '+' || v_phone;
    end if;
    if v_phone !~ '^\+[1-9][0-9]{7,14}$' then
        perform core.raise_invalid(
            format('"%s" is not a phone number', p_phone), 'use the international format, e.g. +79161234567'
        );
    end if;
    return v_phone;
end
$$;
comment on function core.normalize_phone(text) is
'Normalise a phone number to E.164 (+79161234567; 8XXXXXXXXXX is read as Russian); 22023 otherwise.';

create or replace function core.clean_name(
    p_value text, p_what text, p_min integer, p_max integer
) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_value text := btrim(p_value);
begin
    if v_value is null or v_value = '' then
        perform core.raise_invalid(format('%s must not be empty', p_what));
    end if;
    if v_value ~ '[[:cntrl:]]' then
        perform core.raise_invalid(format('%s must not contain control characters', p_what));
    end if;
    if char_length(v_value) not between p_min and p_max then
        perform core.raise_invalid(
            format('%s must be %s to %s characters long, not %s', p_what, p_min, p_max, char_length(v_value))
        );
    end if;
    return v_value;
end
$$;
comment on function core.clean_name(text, text, integer, integer) is
'Trim a name-like argument and check it is present, printable and P_MIN..P_MAX characters; 22023 otherwise.';

create or replace function core.check_password(p_password text) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_password is null or char_length(p_password) < 8 then
        perform core.raise_invalid('the password must be at least 8 characters long');
    end if;
    -- bcrypt reads only the first 72 bytes: refuse more rather than silently ignore them.
    if octet_length(p_password) > 72 then
        perform core.raise_invalid('the password must be at most 72 bytes long');
    end if;
end
$$;
comment on function core.check_password(text) is
'A new password is 8 characters to 72 bytes (bcrypt''s limit); 22023 otherwise.';

create or replace function core.notification_channels(
    p_channels text[], p_email text, p_phone text, p_telegram_chat_id bigint
) returns core.notification_channel[]
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_name text;
    v_result core.notification_channel[] := '{}';
    v_channel core.notification_channel;
begin
    if p_channels is null then
        -- default: every channel the contacts allow
        if p_telegram_chat_id is not null then v_result := v_result || 'telegram'::core.notification_channel; end if;
        if p_email is not null then v_result := v_result || 'email'::core.notification_channel; end if;
        if p_phone is not null then v_result := v_result || 'sms'::core.notification_channel; end if;
        return v_result;
    end if;
    foreach v_name in array p_channels loop
        if v_name is null or lower(btrim(v_name)) not in ('telegram', 'email', 'sms') then
            perform core.raise_invalid(
                format('unknown notification channel "%s"', v_name), 'channels are telegram, email and sms'
            );
        end if;
        v_channel := lower(btrim(v_name))::core.notification_channel;
        if (v_channel = 'email' and p_email is null)
            or (v_channel = 'sms' and p_phone is null)
            or (v_channel = 'telegram' and p_telegram_chat_id is null) then
            perform core.raise_invalid(
                format('channel %s needs %s on the account', v_channel,
                       case v_channel when 'email' then 'an email address' when 'sms' then 'a phone number'
                                      else 'a linked Telegram chat' end)
            );
        end if;
        if not v_channel = any(v_result) then
            v_result := v_result || v_channel;
        end if;
    end loop;
    return v_result;
end
$$;
comment on function core.notification_channels(text[], text, text, bigint) is
'Validate requested notification channels against the contacts an account has (default: all it can use).';
