-- Interactions: orders that reserve stock, deals and reviews, the chat under each listing, the
-- contact-click log, the notification outbox, and saved searches.

insert into core.settings (key, value, description) values
('reservation_lifetime', '"10 minutes"', 'How long ordered units stay reserved unpaid.'),
('review_edit_window', '"7 days"', 'How long after writing it a review can be edited.'),
('chat_flood_limit', '5', 'Messages one user may post within chat_flood_window.'),
('chat_flood_window', '"30 seconds"', 'The window of the flood limit.'),
('chat_delete_roles', '["author", "listing_owner", "moderator"]', 'Who may delete a chat message.'),
('click_retention', '"13 months"', 'How long contact clicks are kept; older monthly partitions are dropped.'),
('outbox_lease', '"60 seconds"', 'How long a claimed notification stays with its worker.'),
('outbox_max_attempts', '10', 'Deliveries tried before a notification is set aside as failed.'),
('declared_deal_interval', '"30 days"', 'One declared (offline) deal per seller and buyer within this time.'),
('saved_search_limit', '50', 'Saved searches per user.');

-- Stock: quantity is what is left to sell, reserved_quantity what open orders hold. The check
-- makes overselling impossible whatever the code above it does.
alter table core.listings
add column reserved_quantity integer not null default 0,
add column chat_enabled boolean not null default true,
add column contact_click_count bigint not null default 0,
add constraint check_listings_reserved check (reserved_quantity between 0 and quantity);
comment on column core.listings.reserved_quantity is 'Units held by open orders; never more than quantity.';
comment on column core.listings.quantity is 'Units left to sell; a paid order takes its units off for good.';

-- Orders ---------------------------------------------------------------------------------------

create type core.order_status as enum ('reserved', 'paid', 'cancelled', 'expired');
comment on type core.order_status is 'reserved -> paid | cancelled | expired; see core.order_transitions.';

create type core.payment_status as enum ('unpaid', 'paid');
comment on type core.payment_status is 'Whether the seller confirmed the payment.';

create table core.orders (
    id bigint generated always as identity,
    listing_id bigint not null,
    buyer_id bigint not null,
    seller_id bigint not null,
    shop_id bigint,
    quantity integer not null,
    unit_price_amount bigint not null,
    total_amount bigint not null,
    currency text not null,
    wholesale boolean not null,
    status core.order_status not null default 'reserved',
    payment_status core.payment_status not null default 'unpaid',
    reserved_until timestamptz not null,
    idempotency_key text,
    created_at timestamptz not null default now(),
    closed_at timestamptz,
    constraint pk_orders primary key (id),
    constraint fk_orders_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete restrict,
    constraint fk_orders_buyer_id_users foreign key (buyer_id) references core.users (id) on delete restrict,
    constraint fk_orders_seller_id_users foreign key (seller_id)
    references core.users (id) on delete restrict,
    constraint fk_orders_shop_id_shops foreign key (shop_id) references core.shops (id) on delete set null,
    constraint check_orders_quantity check (quantity > 0),
    constraint check_orders_total check (total_amount = unit_price_amount * quantity),
    constraint check_orders_buyer_is_not_seller check (buyer_id <> seller_id),
    constraint check_orders_payment check ((status = 'paid') = (payment_status = 'paid')),
    constraint check_orders_idempotency_key check (char_length(idempotency_key) between 1 and 100)
);
comment on table core.orders is
'A buyer''s order of N units of a listing: reserved at once, then paid (sold), cancelled or expired.';

create unique index index_orders_on_buyer_id_idempotency_key on core.orders (buyer_id, idempotency_key)
where idempotency_key is not null;
create index index_orders_on_buyer_id on core.orders (buyer_id, created_at desc);
create index index_orders_on_seller_id on core.orders (seller_id, created_at desc);
create index index_orders_on_listing_id on core.orders (listing_id);
create index index_orders_on_shop_id on core.orders (shop_id) where shop_id is not null;
create index index_orders_on_reserved_until on core.orders (reserved_until) where status = 'reserved';

create table core.order_transitions (
    id bigint generated always as identity,
    order_id bigint not null,
    from_status core.order_status,
    to_status core.order_status not null,
    changed_at timestamptz not null default now(),
    changed_by bigint,
    reason text,
    constraint pk_order_transitions primary key (id),
    constraint fk_order_transitions_order_id_orders foreign key (order_id)
    references core.orders (id) on delete cascade,
    constraint fk_order_transitions_changed_by_users foreign key (changed_by)
    references core.users (id) on delete set null
);
comment on table core.order_transitions is 'Every status change of every order.';
create index index_order_transitions_on_order_id on core.order_transitions (order_id, id);
create index index_order_transitions_on_changed_by on core.order_transitions (changed_by);

-- Deals and reviews ----------------------------------------------------------------------------

create table core.deals (
    id bigint generated always as identity,
    seller_id bigint not null,
    buyer_id bigint not null,
    listing_id bigint,
    order_id bigint,
    created_at timestamptz not null default now(),
    confirmed_at timestamptz,
    constraint pk_deals primary key (id),
    constraint fk_deals_seller_id_users foreign key (seller_id) references core.users (id) on delete cascade,
    constraint fk_deals_buyer_id_users foreign key (buyer_id) references core.users (id) on delete cascade,
    constraint fk_deals_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete set null,
    constraint fk_deals_order_id_orders foreign key (order_id) references core.orders (id) on delete set null,
    constraint check_deals_two_people check (seller_id <> buyer_id)
);
comment on table core.deals is
'A completed sale between a seller and a buyer: from a paid order (confirmed by the payment), or declared '
'by the seller for an offline sale and confirmed by the buyer. Only confirmed deals allow a review.';
create unique index index_deals_on_order_id on core.deals (order_id) where order_id is not null;
create index index_deals_on_seller_id on core.deals (seller_id);
create index index_deals_on_buyer_id_seller_id on core.deals (buyer_id, seller_id);
create index index_deals_on_listing_id on core.deals (listing_id) where listing_id is not null;

create table core.reviews (
    id bigint generated always as identity,
    deal_id bigint not null,
    author_id bigint not null,
    seller_id bigint not null,
    rating smallint not null,
    body text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint pk_reviews primary key (id),
    constraint fk_reviews_deal_id_deals foreign key (deal_id) references core.deals (id) on delete cascade,
    constraint fk_reviews_author_id_users foreign key (author_id)
    references core.users (id) on delete cascade,
    constraint fk_reviews_seller_id_users foreign key (seller_id)
    references core.users (id) on delete cascade,
    constraint check_reviews_rating check (rating between 1 and 5),
    constraint check_reviews_body check (char_length(body) between 1 and 2000)
);
comment on table core.reviews is 'A buyer''s rating (1-5) of a seller; exactly one per deal.';
create unique index index_reviews_on_deal_id on core.reviews (deal_id);
create index index_reviews_on_author_id on core.reviews (author_id);
create index index_reviews_on_seller_id on core.reviews (seller_id);

create table core.platform_reviews (
    user_id bigint not null,
    rating smallint not null,
    body text not null,
    created_at timestamptz not null default now(),
    constraint pk_platform_reviews primary key (user_id),
    constraint fk_platform_reviews_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint check_platform_reviews_rating check (rating between 1 and 5),
    constraint check_platform_reviews_body check (char_length(body) between 1 and 2000)
);
comment on table core.platform_reviews is 'One review of the marketplace itself per user.';

-- Chat under a listing, partitioned by month -----------------------------------------------------

create table core.chat_messages (
    id bigint generated always as identity,
    listing_id bigint not null,
    author_id bigint not null,
    body text not null,
    created_at timestamptz not null default now(),
    deleted_at timestamptz,
    deleted_by bigint,
    constraint pk_chat_messages primary key (id, created_at),
    constraint fk_chat_messages_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_chat_messages_author_id_users foreign key (author_id)
    references core.users (id) on delete cascade,
    constraint fk_chat_messages_deleted_by_users foreign key (deleted_by)
    references core.users (id) on delete set null,
    constraint check_chat_messages_body check (char_length(body) between 1 and 2000)
) partition by range (created_at);
comment on table core.chat_messages is
'The shared thread under each listing. Deleted messages stay (soft delete) for moderators.';
create index index_chat_messages_on_listing_id on core.chat_messages (listing_id, id desc);
create index index_chat_messages_on_author_id on core.chat_messages (author_id, created_at);
create index index_chat_messages_on_deleted_by on core.chat_messages (deleted_by)
where deleted_by is not null;
create table core.chat_messages_default partition of core.chat_messages default;

-- Contact clicks, partitioned by month, with exact counters kept beside them ---------------------

create table core.contact_clicks (
    id bigint generated always as identity,
    listing_id bigint not null,
    viewer_id bigint,
    fingerprint text,
    source text not null,
    clicked_at timestamptz not null default now(),
    constraint pk_contact_clicks primary key (id, clicked_at),
    constraint fk_contact_clicks_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_contact_clicks_viewer_id_users foreign key (viewer_id)
    references core.users (id) on delete set null,
    constraint check_contact_clicks_viewer check (viewer_id is not null or fingerprint is not null),
    constraint check_contact_clicks_source check (source ~ '^[a-z_]{2,30}$'),
    constraint check_contact_clicks_fingerprint check (char_length(fingerprint) between 8 and 128)
) partition by range (clicked_at);
comment on table core.contact_clicks is
'Each time a viewer opened a listing''s contacts. Kept click_retention; counts come from the rollups.';
create index index_contact_clicks_on_listing_id on core.contact_clicks (listing_id, viewer_id);
create index index_contact_clicks_on_viewer_id on core.contact_clicks (viewer_id) where viewer_id is not null;
create table core.contact_clicks_default partition of core.contact_clicks default;

create table core.contact_clicks_daily (
    listing_id bigint not null,
    day date not null,
    clicks integer not null,
    constraint pk_contact_clicks_daily primary key (listing_id, day),
    constraint fk_contact_clicks_daily_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade
);
comment on table core.contact_clicks_daily is
'Clicks per listing and day, kept in step with the log (outlives its retention).';

-- The notification outbox, partitioned by month --------------------------------------------------

create table core.notifications (
    id bigint generated always as identity,
    user_id bigint not null,
    channel core.notification_channel not null,
    kind text not null,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    claimed_by text,
    claimed_until timestamptz,
    attempts integer not null default 0,
    delivered_at timestamptz,
    failed_at timestamptz,
    constraint pk_notifications primary key (id, created_at),
    constraint fk_notifications_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint check_notifications_kind check (kind ~ '^[a-z_]{3,40}$')
) partition by range (created_at);
comment on table core.notifications is
'The outbox: what must reach a person, written in the same transaction as the change it is about. '
'Workers claim (with a lease), deliver and acknowledge; one user''s notifications on one channel go out '
'in order; after outbox_max_attempts a notification is set aside (failed_at) and stops blocking the rest.';
create index index_notifications_on_pending on core.notifications (user_id, channel, id)
where delivered_at is null and failed_at is null;
create index index_notifications_on_id on core.notifications (id);
create table core.notifications_default partition of core.notifications default;

create function core.wake_outbox_workers() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_notify('bazaar_outbox', '');
    return null;
end
$$;
comment on function core.wake_outbox_workers() is
'Trigger: NOTIFY bazaar_outbox once per statement that queued notifications.';

create trigger notifications_wake_workers
after insert on core.notifications
for each statement execute function core.wake_outbox_workers();

-- Saved searches and category watches ------------------------------------------------------------

create table core.saved_searches (
    id bigint generated always as identity,
    user_id bigint not null,
    name text not null,
    query text,
    filters jsonb not null default '{}',
    created_at timestamptz not null default now(),
    constraint pk_saved_searches primary key (id),
    constraint fk_saved_searches_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint check_saved_searches_name check (char_length(name) between 1 and 80)
);
comment on table core.saved_searches is
'A user''s saved search (text and filters); a category watch is one with only a category. A newly '
'published listing that matches notifies the user once.';
create index index_saved_searches_on_user_id on core.saved_searches (user_id);

select ops.create_monthly_partitions('core.chat_messages', 1, 3);
select ops.create_monthly_partitions('core.contact_clicks', 1, 3);
select ops.create_monthly_partitions('core.notifications', 1, 3);

create function ops.drop_old_partitions(p_table regclass, p_keep interval) returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_partition record;
    v_dropped integer := 0;
    v_cutoff timestamptz := date_trunc('month', (now() - p_keep) at time zone 'UTC') at time zone 'UTC';
begin
    -- monthly partitions whose whole range lies before the cutoff; the default partition stays
    for v_partition in
        select c.oid::regclass as name,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz as upper_bound
        from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = p_table and pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    loop
        if v_partition.upper_bound <= v_cutoff then
            execute format('drop table %s', v_partition.name);
            v_dropped := v_dropped + 1;
        end if;
    end loop;
    return v_dropped;
end
$$;
comment on function ops.drop_old_partitions(regclass, interval) is
'Drop the monthly partitions of a table that hold only rows older than P_KEEP (whole months); '
'returns how many.';
