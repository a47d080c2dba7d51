-- Promotion bought like goods (issue 17): the seller side orders days of the VIP mark for a listing
-- on sale, the platform confirms the payment (admins, as a seller confirms a goods payment), and
-- the promotion starts then; unpaid, the order expires after reservation_lifetime.

create or replace function api.buy_promotion(
    p_token text, p_listing_id bigint, p_days integer, p_idempotency_key text default null
)
returns table (
    promotion_order_id bigint, days integer, total_amount bigint, currency text,
    reserved_until timestamptz, created boolean
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_order core.promotion_orders;
begin
    perform core.require_listing_manager(v_user, v_listing);
    if p_days is null or p_days not between 1 and core.setting_int('promotion_max_days') then
        perform core.raise_invalid(format('promotion is bought for 1 to %s days', core.setting_int('promotion_max_days')));
    end if;
    if char_length(p_idempotency_key) not between 1 and 100 then
        perform core.raise_invalid('an idempotency key is 1-100 characters');
    end if;
    if p_idempotency_key is not null then
        select o.* into v_order from core.promotion_orders as o
        where o.buyer_id = v_user.id and o.idempotency_key = p_idempotency_key;
        if found then
            if v_order.listing_id <> p_listing_id or v_order.days <> p_days then
                raise exception using errcode = '23505', message = 'this idempotency key was used for another order',
                    hint = 'use a new key for a new order';
            end if;
            return query select v_order.id, v_order.days, v_order.total_amount, v_order.currency,
                v_order.reserved_until, false;
            return;
        end if;
    end if;
    if v_listing.status not in ('published', 'reserved') or v_listing.seller_blocked then
        raise exception using errcode = '55000',
            message = format('listing %s is not on sale: only a listing on sale is promoted', p_listing_id),
            detail = jsonb_build_object('listing_id', p_listing_id, 'reason', 'not_on_sale',
                                        'message', 'not on sale')::text;
    end if;
    insert into core.promotion_orders (listing_id, buyer_id, days, total_amount, idempotency_key, reserved_until)
    values (p_listing_id, v_user.id, p_days, p_days::bigint * core.setting_int('promotion_price_per_day'),
            p_idempotency_key, now() + core.setting_interval('reservation_lifetime'))
    returning * into v_order;
    return query select v_order.id, v_order.days, v_order.total_amount, v_order.currency, v_order.reserved_until, true;
end
$$;
comment on function api.buy_promotion(text, bigint, integer, text) is
'The seller side orders P_DAYS (1 to promotion_max_days) of promotion for a listing on sale at '
'promotion_price_per_day each: reserved until paid (api.pay_promotion) for reservation_lifetime. The '
'same key again answers the same order (created false). 28000/42501 token; 42501 not the seller side; '
'P0002 no listing; 22023 bad days or key; 55000 not on sale (DETAIL reason not_on_sale); 23505 the key '
'was used for another order.';

create or replace function api.pay_promotion(p_token text, p_promotion_order_id bigint)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin core.users := core.authenticate(p_token);
    v_order core.promotion_orders;
    v_until timestamptz;
begin
    perform core.require_platform_role(v_admin, 'admin');
    select o.* into v_order from core.promotion_orders as o where o.id = p_promotion_order_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no promotion order %s', p_promotion_order_id);
    end if;
    if v_order.status <> 'reserved' or v_order.reserved_until <= now() then
        raise exception using errcode = '55000',
            message = format('promotion order %s is %s', v_order.id,
                             case when v_order.status = 'reserved' then 'past its reservation'
                                  else v_order.status::text end),
            hint = 'the seller can order again',
            detail = '{"reason": "not_reserved"}';
    end if;
    -- the days start now, or where a promotion still running ends
    update core.listings as l
    set promoted_until = greatest(coalesce(l.promoted_until, now()), now()) + make_interval(days => v_order.days)
    where l.id = v_order.listing_id
    returning l.promoted_until into v_until;
    update core.promotion_orders as o
    set status = 'paid', closed_at = now(), closed_by = v_admin.id, promoted_until = v_until
    where o.id = v_order.id;
    perform core.audit(v_admin.id, 'pay_promotion', v_order.buyer_id, null, null,
                       jsonb_build_object('promotion_order_id', v_order.id, 'listing_id', v_order.listing_id,
                                          'days', v_order.days, 'until', v_until));
    return v_until;
end
$$;
comment on function api.pay_promotion(text, bigint) is
'The platform confirms a promotion payment (admins): the listing is promoted from now (or from the end '
'of a promotion still running) for the days bought; returns until when. Audited. 28000/42501 token; '
'42501 not an admin; P0002 no such order; 55000 not reserved, or the reservation expired.';

create or replace function api.cancel_promotion(p_token text, p_promotion_order_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    update core.promotion_orders as o set status = 'cancelled', closed_at = now(), closed_by = v_user.id
    where o.id = p_promotion_order_id and o.buyer_id = v_user.id and o.status = 'reserved';
    if not found then
        if exists (select from core.promotion_orders as o where o.id = p_promotion_order_id and o.buyer_id = v_user.id) then
            raise exception using errcode = '55000',
                message = format('promotion order %s is no longer reserved', p_promotion_order_id),
                detail = '{"reason": "not_reserved"}';
        end if;
        raise exception using errcode = 'P0002', message = format('you have no promotion order %s', p_promotion_order_id);
    end if;
end
$$;
comment on function api.cancel_promotion(text, bigint) is
'The buyer cancels a promotion order not paid yet. 28000/42501 token; P0002 not yours; 55000 no longer '
'reserved.';

create or replace function api.my_promotions(p_token text)
returns table (
    promotion_order_id bigint, listing_id bigint, title text, days integer, total_amount bigint,
    currency text, status text, reserved_until timestamptz, promoted_until timestamptz,
    created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    return query
    select o.id, o.listing_id, l.title, o.days, o.total_amount, o.currency,
        case when o.status = 'reserved' and o.reserved_until <= now() then 'expired' else o.status::text end,
        o.reserved_until, o.promoted_until, o.created_at
    from core.promotion_orders as o join core.listings as l on l.id = o.listing_id
    where o.buyer_id = v_user.id
    order by o.created_at desc, o.id desc
    limit 200;
end
$$;
comment on function api.my_promotions(text) is
'Your promotion orders, newest first (the last 200), with their status (a reservation past its time '
'shows expired) and until when a paid one promotes. 28000/42501 token.';
