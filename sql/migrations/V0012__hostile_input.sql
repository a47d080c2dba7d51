-- Hostile input cannot stop the marketplace (ADR 0011). The schema's half of the guards: every
-- value an api function stores has a type and a bound the table itself enforces, so no writer
-- (the api, the generator, a hand-written fix) can store what a reader later fails on.

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
('sign_in_code_lockout_window', '"24 hours"', 'The window of the two daily sign-in code limits.');

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

-- Every text the api stores is bounded by its table (tests/sql read the catalog for it) -----------

alter table core.listings
add constraint check_listings_brand_length check (char_length(brand) between 1 and 60),
add constraint check_listings_region_length check (char_length(region) between 2 and 80),
add constraint check_listings_city_length check (char_length(city) between 2 and 80),
add constraint check_listings_contact_name_length check (char_length(contact_name) between 1 and 80),
add constraint check_listings_contact_phone_format check (contact_phone ~ '^\+[1-9][0-9]{7,14}$'),
add constraint check_listings_rejection_reason_length check (char_length(rejection_reason) <= 500),
add constraint check_listings_ad_insert_length check (char_length(ad_insert) <= 1000),
add constraint check_listings_part_number_length check (char_length(part_number) <= 40),
-- Money and stock fit every product: a line is at most 10^11 x 10^5 = 10^16, an order of
-- cart_max_lines (at most 200) lines at most 2 x 10^18, below bigint's 9.2 x 10^18.
add constraint check_listings_price_bound check (price_amount <= 100000000000),
add constraint check_listings_quantity_bound check (quantity <= 1000000);
comment on column core.listings.price_amount is
'Unit price in minor units (kopecks for RUB), 1 to 10^11 (a billion roubles): every order total fits.';

alter table core.listing_status_history
add constraint check_listing_status_history_reason_length check (char_length(reason) <= 500);
alter table core.listing_price_history
add constraint check_listing_price_history_currency check (currency ~ '^[A-Z]{3}$');
alter table core.orders
add constraint check_orders_currency check (currency ~ '^[A-Z]{3}$');
alter table core.order_transitions
add constraint check_order_transitions_reason_length check (char_length(reason) <= 500);
alter table core.ad_campaigns
add constraint check_ad_campaigns_title_length check (char_length(title) between 3 and 120),
add constraint check_ad_campaigns_body_length check (char_length(body) between 1 and 1000);
alter table core.audit_log
add constraint check_audit_log_action_length check (char_length(action) <= 60),
add constraint check_audit_log_reason_length check (char_length(reason) <= 500);
alter table core.users
add constraint check_users_blocked_reason_length check (char_length(blocked_reason) <= 500),
add constraint check_users_password_hash_length check (char_length(password_hash) = 60);
alter table core.sign_in_failures
add constraint check_sign_in_failures_identifier_length check (char_length(identifier) <= 300);
alter table core.notifications
add constraint check_notifications_claimed_by check (
    claimed_by ~ '^[A-Za-z0-9._:-]+$' and char_length(claimed_by) <= 100
);

-- Integer attributes are stored as integers: 2015.0 (what json.dumps(2015.0) sends) became 2015
-- only in the write path; rows stored before keep a reader from failing on them.
update core.listings as l set attributes = l.attributes || fixed.attributes
from (
    select
        l2.id,
        jsonb_object_agg(d.name, to_jsonb(trunc((l2.attributes ->> d.name)::numeric)::bigint)) as attributes
    from core.listings as l2
    inner join core.categories as c on l2.category_id = c.id
    inner join core.attribute_definitions as d
        on
            l2.kind = d.kind and (d.category_id is null or d.category_id = any(c.path))
            and d.value_type = 'integer'
    where
        jsonb_typeof(l2.attributes -> d.name) = 'number'
        and (l2.attributes ->> d.name) !~ '^-?[0-9]+$'
    group by l2.id
) as fixed
where l.id = fixed.id;

-- Saved searches: typed columns instead of a JSON object ------------------------------------------
-- A filter is stored with its type, its foreign key and its bound, so matching one against a new
-- listing compares typed values and cannot fail on what was stored.

alter table core.saved_searches
add column kind core.listing_kind,
add column category_id bigint,
add column brand text,
add column make_id bigint,
add column model_id bigint,
add column year integer,
add column price_min bigint,
add column price_max bigint,
add column currency text not null default 'RUB',
add column region text,
add column city text,
add column condition text,
add column seller_type text,
add column has_photos boolean,
add column tag text;

-- a filter naming a make or model that is not in the catalog never matched anything
delete from core.saved_searches as s
where
    (s.filters ? 'make_id' and not exists (
        select from core.vehicle_makes as m
        where m.id = (s.filters ->> 'make_id')::bigint
    ))
    or (s.filters ? 'model_id' and not exists (
        select from core.vehicle_models as m
        where m.id = (s.filters ->> 'model_id')::bigint
    ));

update core.saved_searches as s set
    kind = (s.filters ->> 'kind')::core.listing_kind,
    category_id = (s.filters ->> 'category_id')::bigint,
    brand = left(nullif(btrim(s.filters ->> 'brand'), ''), 60),
    make_id = (s.filters ->> 'make_id')::bigint,
    model_id = (s.filters ->> 'model_id')::bigint,
    year = (s.filters ->> 'year')::numeric::integer,
    price_min = (s.filters ->> 'price_min')::bigint,
    price_max = (s.filters ->> 'price_max')::bigint,
    currency = coalesce(s.filters ->> 'currency', 'RUB'),
    region = left(nullif(btrim(s.filters ->> 'region'), ''), 80),
    city = left(nullif(btrim(s.filters ->> 'city'), ''), 80),
    condition = s.filters ->> 'condition',
    seller_type = s.filters ->> 'seller_type',
    has_photos = (s.filters ->> 'has_photos')::boolean,
    tag = s.filters ->> 'tag',
    -- the normalisation of core.search_text (a run of minuses is one; a minus before nothing
    -- negates nothing): a stored text builds a tsquery
    query = nullif(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        left(s.query, 200),
        '[[:cntrl:]\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]', ' ', 'g'
    ),
    '-[-[:space:]]*', '-', 'g'),
    '-(?![[:alnum:]"])', ' ', 'g'),
    '[[:space:]]+', ' ', 'g')), '');

delete from core.saved_searches as s
where num_nonnulls(
    s.query, s.kind, s.category_id, s.brand, s.make_id, s.model_id, s.year, s.price_min, s.price_max,
    s.region, s.city, s.condition, s.seller_type, s.has_photos, s.tag
) = 0;

alter table core.saved_searches
drop column filters,
add constraint fk_saved_searches_category_id_categories foreign key (category_id)
references core.categories (id) on delete cascade,
add constraint fk_saved_searches_make_id_vehicle_makes foreign key (make_id)
references core.vehicle_makes (id) on delete cascade,
add constraint fk_saved_searches_model_id_vehicle_models foreign key (model_id)
references core.vehicle_models (id) on delete cascade,
add constraint check_saved_searches_query_length check (char_length(query) between 1 and 200),
add constraint check_saved_searches_brand_length check (char_length(brand) between 1 and 60),
add constraint check_saved_searches_region_length check (char_length(region) between 1 and 80),
add constraint check_saved_searches_city_length check (char_length(city) between 1 and 80),
add constraint check_saved_searches_year check (year between 1950 and 2100),
add constraint check_saved_searches_price_range check (
    price_min >= 0 and price_max >= 0 and (price_min <= price_max or price_min is null or price_max is null)
),
add constraint check_saved_searches_currency check (currency ~ '^[A-Z]{3}$'),
add constraint check_saved_searches_condition check (condition in ('new', 'used')),
add constraint check_saved_searches_seller_type check (seller_type in ('shop', 'private')),
add constraint check_saved_searches_tag check (
    char_length(tag) between 2 and 30 and tag = lower(tag) and tag = btrim(tag) and tag ~ '^[[:alnum:]_ -]+$'
),
add constraint check_saved_searches_something check (
    num_nonnulls(
        query, kind, category_id, brand, make_id, model_id, year, price_min, price_max, region, city,
        condition, seller_type, has_photos, tag
    ) > 0
);
create index index_saved_searches_on_category_id on core.saved_searches (category_id)
where category_id is not null;
create index index_saved_searches_on_make_id on core.saved_searches (make_id) where make_id is not null;
create index index_saved_searches_on_model_id on core.saved_searches (model_id) where model_id is not null;
comment on table core.saved_searches is
'A user''s saved search: normalised text and typed filters, the same as api.search takes; a category '
'watch is one with only a category. A newly published listing that matches notifies the user once.';

-- Publications wait here for saved-search matching, outside the moderator's transaction: no saved
-- search can fail (or slow down) an approval. ops.match_saved_searches drains it every minute.
create table core.saved_search_queue (
    listing_id bigint not null,
    queued_at timestamptz not null default now(),
    attempts integer not null default 0,
    last_error text,
    constraint pk_saved_search_queue primary key (listing_id),
    constraint fk_saved_search_queue_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint check_saved_search_queue_attempts check (attempts >= 0),
    constraint check_saved_search_queue_last_error_length check (char_length(last_error) <= 1000)
);
comment on table core.saved_search_queue is
'Listings published since the last saved-search matching run; a listing whose matching failed stays with '
'its error and is tried again, at most three times.';
create index index_saved_search_queue_on_queued_at on core.saved_search_queue (queued_at);

-- Sign-in codes belong to a phone number -----------------------------------------------------------
-- A code is issued (and its tries counted) for any phone, with or without an account, so neither
-- asking for a code nor guessing one tells whether the number has an account.

alter table core.sign_in_codes
add column phone text,
alter column user_id drop not null;
update core.sign_in_codes as c set phone = u.phone
from core.users as u
where u.id = c.user_id;
delete from core.sign_in_codes
where phone is null;
alter table core.sign_in_codes
alter column phone set not null,
add constraint check_sign_in_codes_phone check (phone ~ '^\+[1-9][0-9]{7,14}$'),
add constraint check_sign_in_codes_code_hash check (code_hash like '$2_$%' and char_length(code_hash) = 60);
create index index_sign_in_codes_on_phone_created_at on core.sign_in_codes (phone, created_at);
comment on table core.sign_in_codes is
'Six-digit Telegram sign-in codes (bcrypt-hashed) per phone number, with expiry and a bounded number of '
'attempts; a code for a number without an eligible account is stored but never sent.';

-- What the abuse limits count ----------------------------------------------------------------------

alter table core.users
add column signup_fingerprint text,
add constraint check_users_signup_fingerprint check (char_length(signup_fingerprint) between 8 and 128);
comment on column core.users.signup_fingerprint is
'The client the account was opened from (what the application passes: a device or network fingerprint), '
'for the registration_limit.';
create index index_users_on_signup_fingerprint_created_at on core.users (signup_fingerprint, created_at)
where signup_fingerprint is not null;
create index index_users_on_created_at on core.users (created_at);

alter table core.listings add column clickers_notified_at timestamptz;
comment on column core.listings.clickers_notified_at is
'When the seller last messaged the listing''s clickers (api.notify_clickers; notify_clickers_interval).';

drop index core.index_contact_clicks_on_viewer_id;
create index index_contact_clicks_on_viewer_id on core.contact_clicks (viewer_id, clicked_at)
where viewer_id is not null;
create index index_contact_clicks_on_fingerprint on core.contact_clicks (fingerprint, clicked_at)
where fingerprint is not null;
