-- Hostile input cannot stop the marketplace (ADR 0011), the schema's part in four migrations (2/4):
-- every value an api function stores has a type and a bound the table itself enforces, so no
-- writer (the api, the generator, a hand-written fix) can store what a reader later fails on.

-- Every text the api stores is bounded by its table (tests/sql read the catalog for it) -----------
-- Rows the api stored before it checked these (an edit skipped create's limits, nothing bounded
-- the contact name, the price or the quantity) are brought within them first; a capped price is
-- recorded in the price history like any other change. History that is append-only (the audit
-- log) is not rewritten: its new checks hold for new rows (NOT VALID).

update core.listings set
    brand = nullif(btrim(left(brand, 60)), ''),
    contact_name = nullif(btrim(left(contact_name, 80)), ''),
    region = left(region, 80),
    city = left(city, 80),
    rejection_reason = left(rejection_reason, 500),
    ad_insert = left(ad_insert, 1000)
where
    char_length(brand) > 60 or char_length(contact_name) > 80 or char_length(region) > 80
    or char_length(city) > 80 or char_length(rejection_reason) > 500 or char_length(ad_insert) > 1000;
with capped as (
    update core.listings set
        price_amount = 100000000000,
        wholesale_price_amount
        = case when wholesale_price_amount < 100000000000 then wholesale_price_amount end,
        wholesale_min_quantity
        = case when wholesale_price_amount < 100000000000 then wholesale_min_quantity end
    where price_amount > 100000000000
    returning id, price_amount, currency, wholesale_price_amount, wholesale_min_quantity
)

insert into core.listing_price_history (
    listing_id, price_amount, currency, wholesale_price_amount, wholesale_min_quantity
)
select
    c.id,
    c.price_amount,
    c.currency,
    c.wholesale_price_amount,
    c.wholesale_min_quantity
from capped as c;
update core.listings set quantity = greatest(1000000, reserved_quantity)
where quantity > 1000000;
update core.listing_status_history set reason = left(reason, 500)
where char_length(reason) > 500;
update core.order_transitions set reason = left(reason, 500)
where char_length(reason) > 500;
update core.users set blocked_reason = left(blocked_reason, 500)
where char_length(blocked_reason) > 500;

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
add constraint check_audit_log_action_length check (char_length(action) <= 60) not valid,
add constraint check_audit_log_reason_length check (char_length(reason) <= 500) not valid,
add constraint check_audit_log_details_size check (octet_length(details::text) <= 65536) not valid;
alter table core.users
add constraint check_users_blocked_reason_length check (char_length(blocked_reason) <= 500),
add constraint check_users_password_hash_length check (char_length(password_hash) = 60);
alter table core.sign_in_failures
add constraint check_sign_in_failures_identifier_length check (char_length(identifier) <= 300);
alter table core.notifications
add constraint check_notifications_claimed_by check (
    claimed_by ~ '^[A-Za-z0-9._:-]+$' and char_length(claimed_by) <= 100
),
add constraint check_notifications_payload_size check (octet_length(payload::text) <= 65536);
alter table core.listings
add constraint check_listings_attributes_size check (octet_length(attributes::text) <= 16384);
alter table core.channel_posts
add constraint check_channel_posts_snapshot_size check (
    octet_length(snapshot::text) <= 65536 and octet_length(queued_snapshot::text) <= 65536
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
