-- Hostile input cannot stop the marketplace (ADR 0011), the schema's part in four migrations (1/4):
-- every value an api function stores has a type and a bound the table itself enforces, so no
-- writer (the api, the generator, a hand-written fix) can store what a reader later fails on.

-- Settings have a declared type and range --------------------------------------------------------
-- api.set_setting checks them with a message; the constraint is the backstop for every writer.

alter table core.settings
add column value_type text,
add column min_value text,
add column max_value text,
add column allowed_values text[];

insert into core.settings (key, value, description) values
(
    'contact_reveal_limit', '50',
    'Listings whose contacts one viewer (signed in or anonymous) may open within contact_reveal_window.'
),
('contact_reveal_window', '"1 day"', 'The window of contact_reveal_limit.'),
(
    'notify_clickers_interval',
    '"24 hours"',
    'Minimum time between two messages to the clickers of one listing.'
),
(
    'registration_limit',
    '3',
    'Accounts one client (the fingerprint the application passes) may open per registration_window.'
),
('registration_window', '"1 day"', 'The window of registration_limit.'),
('registration_global_limit', '120', 'Accounts the whole marketplace opens per minute before refusing more.'),
(
    'sign_in_code_daily_limit',
    '10',
    'Sign-in codes one phone number may ask for within sign_in_code_lockout_window.'
),
(
    'sign_in_code_daily_failures', '10',
    'Wrong sign-in codes one phone number may enter within sign_in_code_lockout_window before codes '
    'stop working (the account is told).'
),
('sign_in_code_lockout_window', '"24 hours"', 'The window of the two daily sign-in code limits.'),
(
    'sign_in_code_global_limit', '600',
    'Sign-in codes the whole marketplace issues per minute, for any numbers, before refusing more.'
);

update core.settings as s set
    value_type = v.value_type,
    min_value = v.min_value,
    max_value = v.max_value,
    allowed_values = v.allowed_values
from (
    values
    ('session_lifetime', 'interval', '1 hour', '365 days', null::text[]),
    ('bcrypt_cost', 'integer', '4', '15', null),
    ('sign_in_failure_limit', 'integer', '1', '100', null),
    ('sign_in_failure_window', 'interval', '1 minute', '1 day', null),
    ('sign_in_code_lifetime', 'interval', '1 minute', '1 hour', null),
    ('sign_in_code_max_attempts', 'integer', '1', '10', null),
    ('sign_in_code_resend_interval', 'interval', '10 seconds', '1 hour', null),
    ('sign_in_code_daily_limit', 'integer', '1', '100', null),
    ('sign_in_code_daily_failures', 'integer', '1', '100', null),
    ('sign_in_code_lockout_window', 'interval', '1 hour', '7 days', null),
    ('sign_in_code_global_limit', 'integer', '10', '100000', null),
    ('bump_interval', 'interval', '1 hour', '30 days', null),
    ('max_photos', 'integer', '1', '100', null),
    ('search_page_max', 'integer', '10', '100', null),
    ('reservation_lifetime', 'interval', '1 minute', '7 days', null),
    ('review_edit_window', 'interval', '1 minute', '365 days', null),
    ('chat_flood_limit', 'integer', '1', '1000', null),
    ('chat_flood_window', 'interval', '1 second', '1 day', null),
    ('chat_delete_roles', 'list', null, null, array['author', 'listing_owner', 'moderator']),
    ('click_retention', 'interval', '1 month', '10 years', null),
    ('outbox_lease', 'interval', '5 seconds', '1 hour', null),
    ('outbox_max_attempts', 'integer', '1', '100', null),
    ('declared_deal_interval', 'interval', '1 minute', '365 days', null),
    ('saved_search_limit', 'integer', '1', '1000', null),
    ('cart_max_lines', 'integer', '1', '200', null),
    ('max_tags_per_listing', 'integer', '1', '30', null),
    ('contact_reveal_limit', 'integer', '1', '10000', null),
    ('contact_reveal_window', 'interval', '1 minute', '30 days', null),
    ('notify_clickers_interval', 'interval', '1 minute', '30 days', null),
    ('registration_limit', 'integer', '1', '1000', null),
    ('registration_window', 'interval', '1 minute', '30 days', null),
    ('registration_global_limit', 'integer', '10', '100000', null)
) as v (key, value_type, min_value, max_value, allowed_values)
where s.key = v.key;

-- Values set before settings had a range (api.set_setting checked only the JSON type) are
-- brought into it: a number is rounded and moved to its nearest bound, an interval likewise.
do $clamp$
declare
    item record;
begin
    for item in
        select
            s.key,
            s.value as old_value,
            case s.value_type
                when 'integer' then to_jsonb(least(greatest(round((s.value #>> '{}')::numeric),
                                                            s.min_value::numeric), s.max_value::numeric)::bigint)
                when 'interval' then to_jsonb(least(greatest((s.value #>> '{}')::interval, s.min_value::interval),
                                                    s.max_value::interval)::text)
                else s.value
            end as new_value
        from core.settings as s
    loop
        if item.new_value is distinct from item.old_value
            and not (jsonb_typeof(item.old_value) = 'string'
                     and (item.old_value #>> '{}')::interval = (item.new_value #>> '{}')::interval) then
            raise notice 'setting % was %, out of its range: now %', item.key, item.old_value, item.new_value;
            update core.settings as s set value = item.new_value, updated_at = now() where s.key = item.key;
        end if;
    end loop;
end
$clamp$;

alter table core.settings
alter column value_type set not null,
add constraint check_settings_value_type check (value_type in ('integer', 'interval', 'list')),
add constraint check_settings_range check (
    (value_type = 'list') = (allowed_values is not null)
    and (value_type = 'list') = (min_value is null and max_value is null)
),
-- CASE, not AND: the casts run only on values of the right shape
add constraint check_settings_value check (
    case value_type
        when 'integer'
            then
                case
                    when jsonb_typeof(value) = 'number' and (value #>> '{}') ~ '^-?[0-9]+$'
                        then (value #>> '{}')::numeric between min_value::numeric and max_value::numeric
                    else false
                end
        when 'interval'
            then
                case
                    when jsonb_typeof(value) = 'string'
                        then (value #>> '{}')::interval between min_value::interval and max_value::interval
                    else false
                end
        else jsonb_typeof(value) = 'array' and value <@ to_jsonb(allowed_values)
    end
);
comment on column core.settings.value_type is
'integer (a JSON number between min_value and max_value), interval (a JSON string such as "10 minutes" '
'between them) or list (a JSON array of allowed_values).';
