-- Orders get lines (one order per seller may hold several listings), a cart per buyer, and the
-- checkouts that turn a cart into orders all at once. See ADR 0008.

insert into core.settings (key, value, description) values
('cart_max_lines', '50', 'Listings one buyer may keep in the cart.');

-- A checkout: the idempotency record that the orders it created point to -------------------------

create table core.checkouts (
    id bigint generated always as identity,
    buyer_id bigint not null,
    idempotency_key text,
    created_at timestamptz not null default now(),
    constraint pk_checkouts primary key (id),
    constraint fk_checkouts_buyer_id_users foreign key (buyer_id)
    references core.users (id) on delete cascade,
    constraint check_checkouts_idempotency_key check (char_length(idempotency_key) between 1 and 100)
);
comment on table core.checkouts is
'One checkout of a cart: every order it created references it; a repeat with the same key returns them.';
create unique index index_checkouts_on_buyer_id_idempotency_key on core.checkouts (buyer_id, idempotency_key)
where idempotency_key is not null;
create index index_checkouts_on_buyer_id on core.checkouts (buyer_id);

-- Order lines: the listing data moves from the order header into its lines ---------------------

create table core.order_lines (
    order_id bigint not null,
    listing_id bigint not null,
    quantity integer not null,
    unit_price_amount bigint not null,
    wholesale boolean not null,
    line_amount bigint not null,
    constraint pk_order_lines primary key (order_id, listing_id),
    constraint fk_order_lines_order_id_orders foreign key (order_id)
    references core.orders (id) on delete cascade,
    constraint fk_order_lines_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete restrict,
    constraint check_order_lines_quantity check (quantity > 0),
    constraint check_order_lines_unit_price check (unit_price_amount > 0),
    constraint check_order_lines_amount check (line_amount = unit_price_amount * quantity)
);
comment on table core.order_lines is
'The listings of an order: units, the unit price taken (wholesale or not) and the line''s amount.';
create index index_order_lines_on_listing_id on core.order_lines (listing_id);

insert into core.order_lines (order_id, listing_id, quantity, unit_price_amount, wholesale, line_amount)
select
    o.id,
    o.listing_id,
    o.quantity,
    o.unit_price_amount,
    o.wholesale,
    o.total_amount
from core.orders as o;

alter table core.orders
drop constraint check_orders_total,
drop column listing_id,
drop column quantity,
drop column unit_price_amount,
drop column wholesale,
add column checkout_id bigint,
add constraint fk_orders_checkout_id_checkouts foreign key (checkout_id)
references core.checkouts (id) on delete set null,
add constraint check_orders_total check (total_amount > 0);
create index index_orders_on_checkout_id on core.orders (checkout_id) where checkout_id is not null;
comment on table core.orders is
'A buyer''s order from one seller (person or shop): its lines are reserved at once, then paid (sold), '
'cancelled or expired together.';
comment on column core.orders.total_amount is 'The sum of the line amounts, in minor units of currency.';
comment on column core.orders.checkout_id is
'The cart checkout that created the order (null for a single order).';

-- The cart ----------------------------------------------------------------------------------------

create table core.cart_items (
    buyer_id bigint not null,
    listing_id bigint not null,
    quantity integer not null,
    added_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint pk_cart_items primary key (buyer_id, listing_id),
    constraint fk_cart_items_buyer_id_users foreign key (buyer_id)
    references core.users (id) on delete cascade,
    constraint fk_cart_items_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint check_cart_items_quantity check (quantity between 1 and 100000)
);
comment on table core.cart_items is
'A buyer''s cart: listings and quantities, nothing reserved until checkout.';
create index index_cart_items_on_listing_id on core.cart_items (listing_id);
