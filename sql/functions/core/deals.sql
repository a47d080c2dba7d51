create or replace function core.record_deal(
    p_seller_id bigint, p_buyer_id bigint, p_listing_id bigint, p_order_id bigint
) returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id bigint;
begin
    -- a paid order is proof of the deal; a declared one waits for the buyer to confirm it
    insert into core.deals (seller_id, buyer_id, listing_id, order_id, confirmed_at)
    values (p_seller_id, p_buyer_id, p_listing_id, p_order_id, case when p_order_id is not null then now() end)
    returning id into v_id;
    perform core.notify(p_buyer_id, case when p_order_id is not null then 'review_request'
                                         else 'deal_confirmation_request' end,
                        jsonb_build_object('deal_id', v_id, 'seller_id', p_seller_id, 'listing_id', p_listing_id));
    return v_id;
end
$$;
comment on function core.record_deal(bigint, bigint, bigint, bigint) is
'Record a deal. From a paid order it is confirmed and the buyer is asked for a review; a declared '
'one asks the buyer to confirm it first.';
