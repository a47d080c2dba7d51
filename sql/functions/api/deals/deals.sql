-- Deals: a paid order is one; a seller declares an offline one and the buyer confirms it.

create or replace function api.record_deal(p_token text, p_buyer_id bigint, p_listing_id bigint default null)
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_seller core.users := core.authenticate(p_token);
    v_listing core.listings;
begin
    if p_buyer_id is null or p_buyer_id = v_seller.id then
        perform core.raise_invalid('a deal needs a buyer other than yourself');
    end if;
    if not exists (select from core.users as u where u.id = p_buyer_id) then
        raise exception using errcode = 'P0002', message = format('no user %s', p_buyer_id);
    end if;
    if p_listing_id is not null then
        v_listing := core.find_listing(p_listing_id);
        perform core.require_listing_manager(v_seller, v_listing);
    end if;
    -- declared deals are cheap to make: one per seller and buyer per declared_deal_interval
    perform pg_advisory_xact_lock(hashtextextended(format('deal:%s:%s', v_seller.id, p_buyer_id), 0));
    if exists (
        select from core.deals as d
        where d.seller_id = v_seller.id and d.buyer_id = p_buyer_id and d.order_id is null
            and d.created_at > now() - core.setting_interval('declared_deal_interval')
    ) then
        raise exception using
            errcode = 'BZ429',
            message = 'a deal with this buyer was declared recently',
            hint = format('one declared deal per buyer every %s', core.setting('declared_deal_interval') #>> '{}');
    end if;
    return core.record_deal(v_seller.id, p_buyer_id, p_listing_id, null);
end
$$;
comment on function api.record_deal(text, bigint, bigint) is
'A seller declares a completed offline sale to a buyer (optionally of one of their listings); the '
'buyer is asked to confirm it (api.confirm_deal), then may review. Returns the deal id. 28000/42501 '
'token; 22023 no buyer or yourself; P0002 no buyer or listing; 42501 not your listing; BZ429 a deal '
'with this buyer was declared within declared_deal_interval.';

create or replace function api.confirm_deal(p_token text, p_deal_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_buyer core.users := core.authenticate(p_token);
    v_deal core.deals;
begin
    select d.* into v_deal from core.deals as d where d.id = p_deal_id for update;
    if not found or v_deal.buyer_id <> v_buyer.id then
        raise exception using errcode = 'P0002', message = format('you have no deal %s', p_deal_id);
    end if;
    if v_deal.confirmed_at is not null then
        raise exception using errcode = '55000', message = format('deal %s is already confirmed', p_deal_id),
            detail = '{"reason": "already_confirmed"}';
    end if;
    update core.deals as d set confirmed_at = now() where d.id = p_deal_id;
    perform core.notify(v_buyer.id, 'review_request',
                        jsonb_build_object('deal_id', p_deal_id, 'seller_id', v_deal.seller_id,
                                           'listing_id', v_deal.listing_id));
end
$$;
comment on function api.confirm_deal(text, bigint) is
'The buyer confirms a deal the seller declared, which makes a review possible. 28000/42501 token; '
'P0002 not your deal; 55000 already confirmed.';

create or replace function api.my_deals(p_token text, p_cursor text default null, p_limit integer default 50)
returns table (
    deal_id bigint, side text, other_user_id bigint, other_name text, listing_id bigint, title text,
    order_id bigint, created_at timestamptz, confirmed_at timestamptz, can_confirm boolean,
    can_review boolean, review_id bigint, next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_after_at timestamptz;
    v_after_id bigint;
begin
    perform core.check_limit(p_limit, 500);
    select k.at, k.id into v_after_at, v_after_id from core.keyset_after(p_cursor) as k;
    return query
    with mine as (
        (
            select d.*, 'buyer' as side from core.deals as d
            where d.buyer_id = v_user.id
                and (v_after_at is null or (d.created_at, d.id) < (v_after_at, v_after_id))
            order by d.created_at desc, d.id desc
            limit p_limit + 1
        )
        union all
        (
            select d.*, 'seller' from core.deals as d
            where d.seller_id = v_user.id
                and (v_after_at is null or (d.created_at, d.id) < (v_after_at, v_after_id))
            order by d.created_at desc, d.id desc
            limit p_limit + 1
        )
    ),
    page as (
        select m.*, row_number() over (order by m.created_at desc, m.id desc) as n, count(*) over () as total
        from mine as m
    )
    select p.id, p.side, o.id, o.display_name, p.listing_id, l.title, p.order_id, p.created_at, p.confirmed_at,
        p.side = 'buyer' and p.confirmed_at is null,
        p.side = 'buyer' and p.confirmed_at is not null and r.id is null,
        r.id,
        case when p.n = p_limit and p.total > p_limit then core.keyset_cursor(p.created_at, p.id) end
    from page as p
    join core.users as o on o.id = case when p.side = 'buyer' then p.seller_id else p.buyer_id end
    left join core.listings as l on l.id = p.listing_id
    left join core.reviews as r on r.deal_id = p.id and r.author_id = p.buyer_id
    where p.n <= p_limit
    order by p.created_at desc, p.id desc;
end
$$;
comment on function api.my_deals(text, text, integer) is
'Your deals as buyer and as seller, newest first, with the other person, the listing and its state: '
'can_confirm (yours to confirm, api.confirm_deal), can_review (confirmed, no review of yours yet, '
'api.review_seller) or review_id. Keyset pages of P_LIMIT (1-500) with next_cursor. 28000/42501 token; '
'22023 bad cursor or limit.';
