-- The cart and its checkout: every line reserved in one transaction, or none (ADR 0008).

create or replace function api.cart_add(p_token text, p_listing_id bigint, p_quantity integer default 1)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
    v_listing core.listings;
    v_quantity integer;
begin
    if p_quantity is null or p_quantity < 1 or p_quantity > 100000 then
        perform core.raise_invalid('the quantity must be between 1 and 100000');
    end if;
    -- a listing that is not on sale does not exist for buyers
    v_listing := core.find_listing(p_listing_id, '{published,reserved}');
    if v_listing.seller_id = v_buyer.id then
        raise exception using errcode = '55000', message = 'you cannot buy your own listing',
            detail = '{"reason": "own_listing"}';
    end if;
    -- one buyer's cart changes one at a time, so the cap holds under concurrency
    perform pg_advisory_xact_lock(hashtextextended('cart:' || v_buyer.id, 0));
    if not exists (select from core.cart_items as c where c.buyer_id = v_buyer.id and c.listing_id = p_listing_id)
       and (select count(*) from core.cart_items as c where c.buyer_id = v_buyer.id)
           >= core.setting_int('cart_max_lines') then
        raise exception using errcode = '55000',
            message = format('the cart holds at most %s listings', core.setting_int('cart_max_lines')),
            hint = 'check out or remove something first',
            detail = '{"reason": "cart_full"}';
    end if;
    select c.quantity + p_quantity into v_quantity from core.cart_items as c
    where c.buyer_id = v_buyer.id and c.listing_id = p_listing_id
    for update;
    if v_quantity > 100000 then
        perform core.raise_invalid('the quantity in the cart must be at most 100000');
    end if;
    insert into core.cart_items as c (buyer_id, listing_id, quantity)
    values (v_buyer.id, p_listing_id, p_quantity)
    on conflict (buyer_id, listing_id) do update
    set quantity = c.quantity + excluded.quantity, updated_at = now()
    returning c.quantity into v_quantity;
    return v_quantity;
end
$$;
comment on function api.cart_add(text, bigint, integer) is
'Put units of a listing in your cart (added to what is there already); returns the quantity now in '
'the cart. Nothing is reserved until checkout. 28000/42501 token; 22023 quantity not 1-100000 (also '
'in total); P0002 no listing (or not public); 55000 own listing, cart full (cart_max_lines).';

create or replace function api.cart_set(p_token text, p_listing_id bigint, p_quantity integer)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
begin
    if p_quantity is null or p_quantity < 1 or p_quantity > 100000 then
        perform core.raise_invalid('the quantity must be between 1 and 100000', 'remove a line with cart_remove');
    end if;
    update core.cart_items as c set quantity = p_quantity, updated_at = now()
    where c.buyer_id = v_buyer.id and c.listing_id = p_listing_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('listing %s is not in your cart', p_listing_id);
    end if;
    return p_quantity;
end
$$;
comment on function api.cart_set(text, bigint, integer) is
'Change the quantity of a listing in your cart; returns it. 28000/42501 token; 22023 quantity not '
'1-100000; P0002 the listing is not in the cart.';

create or replace function api.cart_remove(p_token text, p_listing_id bigint)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
begin
    delete from core.cart_items as c where c.buyer_id = v_buyer.id and c.listing_id = p_listing_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('listing %s is not in your cart', p_listing_id);
    end if;
end
$$;
comment on function api.cart_remove(text, bigint) is
'Take a listing out of your cart. 28000/42501 token; P0002 the listing is not in the cart.';

create or replace function api.cart(p_token text)
returns table (
    listing_id bigint, title text, seller_id bigint, shop_id bigint, quantity integer,
    unit_price_amount bigint, wholesale boolean, line_amount bigint, currency text, available integer,
    listing_status text, problem text, problem_reason text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
begin
    return query
    select l.id, l.title, l.seller_id, l.shop_id, c.quantity, core.unit_price(l, c.quantity),
        core.unit_price(l, c.quantity) <> l.price_amount, core.unit_price(l, c.quantity) * c.quantity,
        l.currency, greatest(l.quantity - l.reserved_quantity, 0), l.status::text,
        r.refusal ->> 'message', r.refusal ->> 'reason'
    from core.cart_items as c join core.listings as l on l.id = c.listing_id
    cross join lateral (select core.order_refusal(l, v_buyer.id, c.quantity) as refusal) as r
    where c.buyer_id = v_buyer.id
    order by l.id;
end
$$;
comment on function api.cart(text) is
'Your cart with current prices (wholesale from its minimum quantity), the units available now, and '
'the problem checkout would have with each line (null when none), with its reason code (own_listing, '
'not_on_sale, seller_blocked, sold_out, not_enough_stock). 28000/42501 token.';

create or replace function api.checkout(p_token text, p_idempotency_key text default null)
returns table (
    order_id bigint, seller_id bigint, shop_id bigint, total_amount bigint, currency text, line_count integer,
    reserved_until timestamptz, created boolean
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
    v_checkout_id bigint;
    v_item record;
    v_failures jsonb[] := '{}';
    v_group record;
    v_ids bigint[];
    v_quantities integer[];
begin
    if char_length(p_idempotency_key) not between 1 and 100 then
        perform core.raise_invalid('the idempotency key must be 1 to 100 characters');
    end if;
    if p_idempotency_key is not null then
        -- a concurrent repeat waits here for the first one's commit, then finds its orders
        insert into core.checkouts (buyer_id, idempotency_key) values (v_buyer.id, p_idempotency_key)
        on conflict (buyer_id, idempotency_key) where idempotency_key is not null do nothing
        returning id into v_checkout_id;
        if v_checkout_id is null then
            return query
            select o.id, o.seller_id, o.shop_id, o.total_amount, o.currency,
                (select count(*)::integer from core.order_lines as ol where ol.order_id = o.id),
                o.reserved_until, false
            from core.checkouts as k join core.orders as o on o.checkout_id = k.id
            where k.buyer_id = v_buyer.id and k.idempotency_key = p_idempotency_key
            order by o.id;
            return;
        end if;
    else
        insert into core.checkouts (buyer_id) values (v_buyer.id) returning id into v_checkout_id;
    end if;
    -- lock order (ADR 0008): the buyer's own cart rows (no one else locks them), then every listing
    -- of the cart in ascending id, then (new) order rows. The cart is read once, with its lock: a
    -- line added meanwhile stays in the cart for the next checkout
    select coalesce(array_agg(c.listing_id order by c.listing_id), '{}'),
        coalesce(array_agg(c.quantity order by c.listing_id), '{}')
    into v_ids, v_quantities
    from (
        select i.listing_id, i.quantity from core.cart_items as i where i.buyer_id = v_buyer.id
        order by i.listing_id for update
    ) as c;
    if cardinality(v_ids) = 0 then
        raise exception using errcode = '55000', message = 'your cart is empty',
            detail = '{"reason": "cart_empty"}';
    end if;
    perform core.lock_listings(v_ids);
    -- check every line before reserving any: all or nothing, and the error names every failing line
    for v_item in
        select l.id, l.title, core.order_refusal(l, v_buyer.id, c.quantity) as refusal
        from unnest(v_ids, v_quantities) as c (listing_id, quantity)
        join core.listings as l on l.id = c.listing_id
        order by l.id
    loop
        if v_item.refusal is not null then
            v_failures := v_failures || (v_item.refusal || jsonb_build_object('title', v_item.title));
        end if;
    end loop;
    if cardinality(v_failures) > 0 then
        raise exception using
            errcode = '55000',
            message = format('%s cart line(s) cannot be reserved (%s); nothing was reserved', cardinality(v_failures),
                             (select string_agg(format('listing %s: %s', f ->> 'listing_id', f ->> 'message'), '; ')
                              from unnest(v_failures) as f)),
            -- each line, machine-readable (docs/errors.md, "Refusal reasons")
            detail = jsonb_build_object('lines', to_jsonb(v_failures))::text,
            hint = 'change or remove those lines and check out again';
    end if;
    -- one order per seller (person or shop) and currency
    for v_group in
        select array_agg(c.listing_id order by c.listing_id) as listing_ids,
            array_agg(c.quantity order by c.listing_id) as quantities
        from unnest(v_ids, v_quantities) as c (listing_id, quantity)
        join core.listings as l on l.id = c.listing_id
        group by l.seller_id, l.shop_id, l.currency
        order by min(c.listing_id)
    loop
        perform core.place_order(v_buyer.id, v_group.listing_ids, v_group.quantities, null, v_checkout_id);
    end loop;
    delete from core.cart_items as c where c.buyer_id = v_buyer.id and c.listing_id = any(v_ids);
    return query
    select o.id, o.seller_id, o.shop_id, o.total_amount, o.currency,
        (select count(*)::integer from core.order_lines as ol where ol.order_id = o.id), o.reserved_until, true
    from core.orders as o where o.checkout_id = v_checkout_id
    order by o.id;
end
$$;
comment on function api.checkout(text, text) is
'Turn your cart into orders, one per seller (person or shop) and currency, reserving every line in one '
'transaction: all lines or none. Reservations last reservation_lifetime like single orders; the cart is '
'emptied. The same idempotency key returns the same orders (created = false). 28000/42501 token; 22023 '
'bad key; 55000 empty cart, or lines that cannot be reserved (DETAIL: one line per failing listing with '
'its id, title and reason: own listing, not on sale, seller blocked, sold out, not enough stock).';
