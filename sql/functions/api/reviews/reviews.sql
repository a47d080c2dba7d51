create or replace function api.review_seller(
    p_token text, p_seller_id bigint, p_rating integer, p_body text, p_deal_id bigint default null
) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_author core.users := core.authenticate(p_token);
    v_body text := core.clean_name(p_body, 'the review', 1, 2000);
    v_deal core.deals;
    v_id bigint;
begin
    if p_rating is null or p_rating not between 1 and 5 then
        perform core.raise_invalid('the rating is 1 to 5');
    end if;
    -- a deal between exactly these two people, not reviewed yet (the given one, or the latest)
    select d.* into v_deal from core.deals as d
    where d.buyer_id = v_author.id and d.seller_id = p_seller_id and d.confirmed_at is not null
        and (p_deal_id is null or d.id = p_deal_id)
        and not exists (select from core.reviews as r where r.deal_id = d.id)
    order by d.created_at desc, d.id desc
    limit 1
    for update;
    if not found then
        -- say which of the three it is: no deal, not confirmed, or reviewed already
        select d.* into v_deal from core.deals as d
        where d.buyer_id = v_author.id and d.seller_id = p_seller_id and (p_deal_id is null or d.id = p_deal_id)
        order by (d.confirmed_at is not null) desc, d.created_at desc, d.id desc
        limit 1;
        if v_deal.id is null then
            raise exception using
                errcode = '55000',
                message = case when p_deal_id is null then 'you have no deal with this seller'
                               else format('deal %s is not yours with this seller', p_deal_id) end,
                hint = 'a paid order is a deal; a deal the seller declares needs your confirmation first',
                detail = '{"reason": "no_deal"}';
        elsif v_deal.confirmed_at is null then
            raise exception using
                errcode = '55000', message = format('deal %s is not confirmed yet', v_deal.id),
                hint = 'confirm it first (api.confirm_deal)',
                detail = '{"reason": "deal_not_confirmed"}';
        end if;
        raise exception using
            errcode = '55000',
            message = case when p_deal_id is null then 'you already reviewed every deal with this seller'
                           else format('deal %s already has your review', v_deal.id) end,
            hint = 'change your review with api.edit_review while its edit window lasts',
            detail = '{"reason": "already_reviewed"}';
    end if;
    insert into core.reviews (deal_id, author_id, seller_id, rating, body)
    values (v_deal.id, v_author.id, p_seller_id, p_rating, v_body)
    returning id into v_id;
    return v_id;
exception
    when unique_violation then
        raise exception using errcode = '23505', message = 'this deal already has a review';
end
$$;
comment on function api.review_seller(text, bigint, integer, text, bigint) is
'Rate a seller 1-5 with a text: needs a confirmed deal between you (buyer) and that seller, one review '
'per deal. '
'Returns the review id. 28000/42501 token; 22023 bad rating or text; 55000 no deal with this seller, not '
'confirmed yet, or reviewed already (the message says which); '
'23505 the deal was reviewed meanwhile.';

create or replace function api.edit_review(p_token text, p_review_id bigint, p_rating integer, p_body text)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_author core.users := core.authenticate(p_token);
    v_body text := core.clean_name(p_body, 'the review', 1, 2000);
    v_review core.reviews;
begin
    if p_rating is null or p_rating not between 1 and 5 then
        perform core.raise_invalid('the rating is 1 to 5');
    end if;
    select r.* into v_review from core.reviews as r where r.id = p_review_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no review %s', p_review_id);
    end if;
    if v_review.author_id <> v_author.id then
        raise exception using errcode = '42501', message = 'only its author edits a review';
    end if;
    if v_review.created_at < now() - core.setting_interval('review_edit_window') then
        raise exception using errcode = '55000', message = 'this review can no longer be edited',
            hint = format('reviews can be edited for %s', core.setting('review_edit_window') #>> '{}'),
            detail = '{"reason": "edit_window_closed"}';
    end if;
    update core.reviews as r set rating = p_rating, body = v_body, updated_at = now() where r.id = p_review_id;
end
$$;
comment on function api.edit_review(text, bigint, integer, text) is
'Change your review within review_edit_window. 28000/42501; P0002 no review; 42501 not yours; '
'55000 too late; 22023 bad rating or text.';

create or replace function api.seller_rating(p_user_id bigint)
returns table (seller_id bigint, reviews bigint, average_rating numeric, last_review_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (select from core.users as u where u.id = p_user_id) then
        raise exception using errcode = 'P0002', message = format('no user %s', p_user_id);
    end if;
    return query
    select p_user_id, coalesce(r.reviews, 0), r.average_rating, r.last_review_at
    from (select 1) as one
    left join analytics.seller_ratings as r on r.seller_id = p_user_id;
end
$$;
comment on function api.seller_rating(bigint) is
'A seller''s rating (reviews, average, latest). No token. P0002 no user.';

create or replace function api.seller_reviews(p_user_id bigint, p_limit integer default 20)
returns table (review_id bigint, author_name text, rating smallint, body text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform core.check_limit(p_limit, 100);
    return query
    select r.id, u.display_name, r.rating, r.body, r.created_at
    from core.reviews as r join core.users as u on u.id = r.author_id
    where r.seller_id = p_user_id
    order by r.created_at desc, r.id desc
    limit p_limit;
end
$$;
comment on function api.seller_reviews(bigint, integer) is
'A seller''s reviews, newest first. No token. 22023 bad limit.';

create or replace function api.review_platform(p_token text, p_rating integer, p_body text) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_body text := core.clean_name(p_body, 'the review', 1, 2000);
begin
    if p_rating is null or p_rating not between 1 and 5 then
        perform core.raise_invalid('the rating is 1 to 5');
    end if;
    insert into core.platform_reviews (user_id, rating, body) values (v_user.id, p_rating, v_body);
exception
    when unique_violation then
        raise exception using errcode = '23505', message = 'you have already reviewed the marketplace';
end
$$;
comment on function api.review_platform(text, integer, text) is
'Review the marketplace itself, once per user. 28000/42501; 22023 bad rating or text; 23505 already did.';
