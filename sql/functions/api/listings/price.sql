create or replace function api.change_price(
    p_token text,
    p_listing_id bigint,
    p_price_amount bigint default null,
    p_wholesale_price_amount bigint default null,
    p_wholesale_min_quantity integer default null,
    p_clear_wholesale boolean default false
) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_price bigint;
    v_wholesale bigint;
    v_minimum integer;
begin
    perform core.require_listing_manager(v_user, v_listing);
    if v_listing.status in ('sold', 'reserved') then
        raise exception using errcode = '55000', message = format('a %s listing keeps its price', v_listing.status),
            detail = '{"reason": "price_locked"}';
    end if;
    if p_clear_wholesale is null then
        perform core.raise_invalid('say whether to clear the wholesale tier (true or false)');
    end if;
    if p_clear_wholesale and (p_wholesale_price_amount is not null or p_wholesale_min_quantity is not null) then
        perform core.raise_invalid('either clear the wholesale tier or set it, not both');
    end if;
    if p_price_amount is null and p_wholesale_price_amount is null and p_wholesale_min_quantity is null
       and not p_clear_wholesale then
        perform core.raise_invalid('say what changes: the price, the wholesale tier, or clear the tier');
    end if;
    -- what is left out stays as it is; the tier goes only when asked to
    v_price := coalesce(p_price_amount, v_listing.price_amount);
    v_wholesale := case when not p_clear_wholesale
                        then coalesce(p_wholesale_price_amount, v_listing.wholesale_price_amount) end;
    v_minimum := case when not p_clear_wholesale
                      then coalesce(p_wholesale_min_quantity, v_listing.wholesale_min_quantity) end;
    perform core.check_price(v_price, v_listing.currency, v_wholesale, v_minimum);
    if (v_price, v_wholesale, v_minimum)
        is not distinct from (v_listing.price_amount, v_listing.wholesale_price_amount, v_listing.wholesale_min_quantity) then
        return;
    end if;
    update core.listings as l set
        price_amount = v_price,
        wholesale_price_amount = v_wholesale,
        wholesale_min_quantity = v_minimum
    where l.id = p_listing_id;
    insert into core.listing_price_history
    (listing_id, price_amount, currency, wholesale_price_amount, wholesale_min_quantity, changed_by)
    values (p_listing_id, v_price, v_listing.currency, v_wholesale, v_minimum, v_user.id);
    if v_price < v_listing.price_amount and v_listing.status = 'published' then
        -- a price drop reaches, once each, everyone who saved the listing or opened its contacts
        perform core.notify(interested.user_id, 'price_drop',
                            jsonb_build_object('listing_id', p_listing_id, 'title', v_listing.title,
                                               'old_price', v_listing.price_amount, 'new_price', v_price,
                                               'currency', v_listing.currency))
        from (
            select f.user_id from core.favorites as f where f.listing_id = p_listing_id
            union
            select c.viewer_id from core.contact_clicks as c
            where c.listing_id = p_listing_id and c.viewer_id is not null
        ) as interested
        where interested.user_id <> v_listing.seller_id;
    end if;
end
$$;
comment on function api.change_price(text, bigint, bigint, bigint, integer, boolean) is
'Change the unit price and/or the wholesale tier (its price and minimum quantity; minor units). What is '
'left out (null) stays as it is; P_CLEAR_WHOLESALE removes the tier. Every change is kept in the price '
'history; a drop notifies, once each, those who saved the listing or opened its contacts. 28000/42501 '
'token; 42501 not the seller; P0002; 55000 reserved or sold; 22023 bad price, nothing to change, or '
'clearing and setting the tier at once.';

create or replace function api.price_history(p_listing_id bigint)
returns table (
    changed_at timestamptz,
    price_amount bigint,
    currency text,
    wholesale_price_amount bigint,
    wholesale_min_quantity integer
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (
        select from core.listings as l
        where l.id = p_listing_id and core.listing_is_public(l.status, l.seller_blocked)
    ) then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    return query
    select h.changed_at, h.price_amount, h.currency, h.wholesale_price_amount, h.wholesale_min_quantity
    from core.listing_price_history as h where h.listing_id = p_listing_id order by h.id;
end
$$;
comment on function api.price_history(bigint) is
'Every price of a public listing, oldest first; no token needed. P0002 unknown or not public.';
