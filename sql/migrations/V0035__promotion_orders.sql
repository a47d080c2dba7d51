-- Sellers buy promotion (the VIP mark, issue 17) as buyers buy goods: an order reserved at a price,
-- paid (the platform confirms the payment, as a seller confirms a goods payment), cancelled or
-- expired when not paid in time (reservation_lifetime); the promotion starts when it is paid.
-- Moderators still grant it directly (api.promote_listing).
insert into core.settings (key, value, description, value_type, min_value, max_value) values
(
    'promotion_price_per_day', '10000', 'What a day of promotion costs, in kopecks.',
    'integer', '1', '100000000'
),
(
    'promotion_max_days', '30', 'The most days of promotion one order buys.', 'integer', '1', '365'
);

create table core.promotion_orders (
    id bigint generated always as identity,
    listing_id bigint not null,
    buyer_id bigint not null,
    days integer not null,
    total_amount bigint not null,
    currency text not null default 'RUB',
    status core.order_status not null default 'reserved',
    idempotency_key text,
    created_at timestamptz not null default now(),
    reserved_until timestamptz not null,
    closed_at timestamptz,
    closed_by bigint,
    promoted_until timestamptz,
    constraint pk_promotion_orders primary key (id),
    constraint fk_promotion_orders_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_promotion_orders_buyer_id_users foreign key (buyer_id)
    references core.users (id) on delete cascade,
    constraint fk_promotion_orders_closed_by_users foreign key (closed_by)
    references core.users (id) on delete set null,
    constraint check_promotion_orders_days check (days between 1 and 365),
    constraint check_promotion_orders_total check (total_amount > 0),
    constraint check_promotion_orders_currency check (currency ~ '^[A-Z]{3}$'),
    constraint check_promotion_orders_key check (char_length(idempotency_key) between 1 and 100),
    constraint check_promotion_orders_closed check ((status = 'reserved') = (closed_at is null)),
    constraint check_promotion_orders_paid check ((status = 'paid') = (promoted_until is not null))
);
comment on table core.promotion_orders is
'Promotion bought by a listing''s seller side: days at promotion_price_per_day, reserved until paid '
'(the platform confirms), cancelled or expired; paid, it extends the listing''s promoted_until.';
create unique index index_promotion_orders_on_buyer_id_key
on core.promotion_orders (buyer_id, idempotency_key) where idempotency_key is not null;
create index index_promotion_orders_on_buyer_id on core.promotion_orders (buyer_id, created_at desc);
create index index_promotion_orders_on_listing_id on core.promotion_orders (listing_id);
create index index_promotion_orders_on_closed_by on core.promotion_orders (closed_by);
create index index_promotion_orders_on_reserved_until on core.promotion_orders (reserved_until)
where status = 'reserved';
