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

create or replace function core.check_limit(p_limit integer, p_max integer) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_limit is null or p_limit not between 1 and p_max then
        perform core.raise_invalid(format('the limit must be between 1 and %s', p_max));
    end if;
end
$$;
comment on function core.check_limit(integer, integer) is
'A page size is 1 to P_MAX rows; 22023 otherwise.';

create or replace function core.quoted(p_value text) returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select case when p_value is null then 'null'
                when char_length(p_value) <= 40 then '"' || p_value || '"'
                else '"' || left(p_value, 40) || '…" (' || char_length(p_value) || ' characters)' end
$$;
comment on function core.quoted(text) is
'A caller''s value quoted for an error message: at most its first 40 characters, so a hostile '
'megabyte never travels back in a message.';

create or replace function core.check_length(p_value text, p_what text, p_max integer) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if char_length(p_value) > p_max then
        perform core.raise_invalid(
            format('%s must be at most %s characters long, not %s', p_what, p_max, char_length(p_value))
        );
    end if;
    return p_value;
end
$$;
comment on function core.check_length(text, text, integer) is
'P_VALUE unchanged when it is at most P_MAX characters (or NULL); 22023 naming P_WHAT otherwise.';

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
    if char_length(v_email) > 254 or v_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' then
        perform core.raise_invalid(format('%s is not an email address', core.quoted(p_email)), 'use name@example.com');
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
    v_phone text;
begin
    if p_phone is null then
        return null;
    end if;
    if char_length(p_phone) > 40 then
        perform core.raise_invalid(format('%s is not a phone number', core.quoted(p_phone)),
                                   'use the international format, e.g. +79161234567');
    end if;
    v_phone := regexp_replace(p_phone, '[[:space:]().-]', '', 'g');
    -- Russian numbers are often written 8XXXXXXXXXX or 7XXXXXXXXXX.
    if v_phone ~ '^8[0-9]{10}$' then
        v_phone := '+7' || substr(v_phone, 2);
    elsif v_phone ~ '^7[0-9]{10}$' then
        v_phone := '+' || v_phone;
    end if;
    if v_phone !~ '^\+[1-9][0-9]{7,14}$' then
        perform core.raise_invalid(
            format('%s is not a phone number', core.quoted(p_phone)), 'use the international format, e.g. +79161234567'
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
    if char_length(v_value) > p_max then
        perform core.raise_invalid(
            format('%s must be %s to %s characters long, not %s', p_what, p_min, p_max, char_length(v_value))
        );
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

create or replace function core.clean_display_name(
    p_value text, p_what text, p_min integer, p_max integer
) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_value text := core.clean_name(p_value, p_what, p_min, p_max);
begin
    -- What shows as nothing would let one name pass for another ("Admin" and "Ad<ZWSP>min", a shop
    -- and its twin with a trailing no-break space): refuse invisible and format characters, and
    -- write every kind of space as one plain space.
    -- Unicode's format characters (category Cf, all of them as of Unicode 15), the fillers that
    -- show as blank, and the variation selectors (tests/sql checks every Cf code point)
    if v_value ~ ('[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u115f-\u1160'
                  '\u17b4-\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164'
                  '\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f'
                  '\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]') then
        perform core.raise_invalid(format('%s must not contain invisible characters', p_what),
                                   'zero-width, direction and other format characters are not allowed');
    end if;
    v_value := btrim(regexp_replace(normalize(v_value, nfc), '[[:space:]\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+', ' ', 'g'));
    return core.clean_name(v_value, p_what, p_min, p_max);
end
$$;
comment on function core.clean_display_name(text, text, integer, integer) is
'A name people see and tell apart (display, shop and channel names): core.clean_name, and no invisible '
'or format characters; Unicode NFC, every kind of space written as one plain space. 22023 otherwise.';

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
                format('unknown notification channel %s', core.quoted(v_name)), 'channels are telegram, email and sms'
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

-- JSON arguments (edit_listing's changes, save_search's filters, listing attributes): one parser
-- per type, each strict about the JSON type and the value, each saying which field was wrong.

create or replace function core.json_number(
    p_value jsonb,
    p_what text,
    p_min numeric default -1e18,
    p_max numeric default 1e18
) returns numeric
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_text text := btrim(p_value #>> '{}');
    v_number numeric;
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    -- 2015, 2015.0 and "2015" are the same number (what json.dumps and form fields send)
    if jsonb_typeof(p_value) = 'number' then
        v_number := p_value::numeric;
    elsif jsonb_typeof(p_value) = 'string' and char_length(v_text) <= 40 then
        begin
            v_number := v_text::numeric;
        exception when invalid_text_representation or numeric_value_out_of_range then
            v_number := null;  -- "abc", or "1e999999" (beyond what numeric holds)
        end;
    end if;
    if v_number is null or v_number in ('NaN', 'Infinity', '-Infinity') then
        perform core.raise_invalid(format('%s must be a number, not %s', p_what, core.quoted(p_value::text)));
    end if;
    if v_number not between p_min and p_max then
        perform core.raise_invalid(format('%s must be between %s and %s, not %s', p_what, p_min, p_max,
                                          core.quoted(v_number::text)));
    end if;
    return v_number;
end
$$;
comment on function core.json_number(jsonb, text, numeric, numeric) is
'A JSON number, or a string holding one (2015, 2015.0, "2015"), within P_MIN..P_MAX; NULL for JSON '
'null or absent; 22023 naming P_WHAT otherwise (NaN and infinities included).';

create or replace function core.json_whole_number(
    p_value jsonb,
    p_what text,
    p_min numeric default -9223372036854775808,
    p_max numeric default 9223372036854775807
) returns bigint
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_number numeric := core.json_number(p_value, p_what, null, null);
begin
    if v_number <> trunc(v_number) then
        perform core.raise_invalid(format('%s must be a whole number, not %s', p_what, core.quoted(v_number::text)));
    end if;
    if v_number not between p_min and p_max then
        perform core.raise_invalid(format('%s must be between %s and %s, not %s', p_what, p_min, p_max,
                                          core.quoted(v_number::text)));
    end if;
    return v_number::bigint;
end
$$;
comment on function core.json_whole_number(jsonb, text, numeric, numeric) is
'A JSON whole number (2015, 2015.0 or "2015") as a bigint within P_MIN..P_MAX; NULL for JSON null or '
'absent; 22023 naming P_WHAT otherwise.';

create or replace function core.json_string(p_value jsonb, p_what text) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) <> 'string' then
        perform core.raise_invalid(format('%s must be a JSON string, not %s', p_what, jsonb_typeof(p_value)));
    end if;
    return p_value #>> '{}';
end
$$;
comment on function core.json_string(jsonb, text) is
'The text of a JSON string; NULL for JSON null or absent; 22023 naming P_WHAT for any other JSON type.';

create or replace function core.json_boolean(p_value jsonb, p_what text) returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) <> 'boolean' then
        perform core.raise_invalid(format('%s must be true or false, not %s', p_what, core.quoted(p_value::text)));
    end if;
    return (p_value #>> '{}')::boolean;
end
$$;
comment on function core.json_boolean(jsonb, text) is
'A JSON true or false; NULL for JSON null or absent; 22023 naming P_WHAT otherwise.';

create or replace function core.json_string_array(p_value jsonb, p_what text) returns text[]
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) <> 'array'
        or exists (select from jsonb_array_elements(p_value) as e where jsonb_typeof(e) <> 'string') then
        perform core.raise_invalid(format('%s must be a JSON array of strings', p_what));
    end if;
    return array(select jsonb_array_elements_text(p_value));
end
$$;
comment on function core.json_string_array(jsonb, text) is
'The strings of a JSON array of strings; NULL for JSON null or absent; 22023 naming P_WHAT otherwise.';
