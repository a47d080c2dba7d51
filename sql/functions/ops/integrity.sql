-- The marketplace's invariants, checked over all the data: what the api functions keep true row
-- by row, stated once more as set queries. `bazaar generate --check` prints the report; a
-- restored backup must show no violation; the exporter publishes the count.

create or replace function ops.integrity_report()
returns table (rule text, description text, violations bigint, sample_ids bigint[])
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    with
    attributes as (
        select l.id from core.listings as l
        where core.attributes_problem(l.kind, l.category_id, l.attributes) is not null
    ),
    search_vector as (
        select l.id from core.listings as l
        left join core.vehicle_models as m on m.id = l.model_id
        left join core.vehicle_makes as mk on mk.id = m.make_id
        where l.search_vector
            <> core.listing_search_vector(l.title, l.description, l.brand, mk.name, m.name, l.part_number)
    ),
    listing_cards as (
        select coalesce(k.listing_id, r.listing_id) as id from core.listing_cards as k
        full join core.listing_card_rows(array(select l.id from core.listings as l)) as r
            on r.listing_id = k.listing_id
        where row(k.*) is distinct from row(r.*)
    ),
    reserved_stock as (
        select l.id from core.listings as l
        left join (
            select ol.listing_id, sum(ol.quantity) as held from core.order_lines as ol
            join core.orders as o on o.id = ol.order_id where o.status = 'reserved' group by ol.listing_id
        ) as r on r.listing_id = l.id
        where l.reserved_quantity <> coalesce(r.held, 0)
    ),
    stock_status as (
        select l.id from core.listings as l
        where l.reserved_quantity > l.quantity
            or (l.status = 'reserved' and l.quantity <> l.reserved_quantity)
            or (l.status = 'published' and (l.quantity = 0 or l.quantity = l.reserved_quantity))
    ),
    seller_blocked as (
        select l.id from core.listings as l join core.users as u on u.id = l.seller_id
        where l.seller_blocked <> (u.blocked_at is not null)
    ),
    order_totals as (
        select o.id from core.orders as o
        join core.order_lines as ol on ol.order_id = o.id
        join core.listings as l on l.id = ol.listing_id
        group by o.id
        having o.total_amount <> sum(ol.line_amount)
            or bool_or(l.seller_id <> o.seller_id or l.shop_id is distinct from o.shop_id)
            or bool_or(l.seller_id = o.buyer_id)
        union all
        select o.id from core.orders as o
        where not exists (select from core.order_lines as ol where ol.order_id = o.id)
    ),
    order_history as (
        select o.id from core.orders as o
        left join lateral (
            select (array_agg(t.to_status order by t.id))[1] as first_status,
                (array_agg(t.to_status order by t.id desc))[1] as last_status
            from core.order_status_history as t where t.order_id = o.id
        ) as h on true
        where h.first_status is distinct from 'reserved' or h.last_status is distinct from o.status
    ),
    deals_from_orders as (
        select o.id from core.orders as o
        left join core.deals as d on d.order_id = o.id
        where (o.status = 'paid') <> (d.id is not null)
            or (d.confirmed_at is null and d.id is not null)
            or d.buyer_id <> o.buyer_id or d.seller_id <> o.seller_id
    ),
    reviews_need_deals as (
        select r.id from core.reviews as r
        join core.deals as d on d.id = r.deal_id
        where d.confirmed_at is null or r.author_id <> d.buyer_id or r.seller_id <> d.seller_id
            or r.created_at < d.confirmed_at
    ),
    listing_counters as (
        select l.id from core.listings as l
        left join (
            select r.listing_id, count(*) filter (where r.reaction = 'like') as likes,
                count(*) filter (where r.reaction = 'dislike') as dislikes
            from core.listing_reactions as r group by r.listing_id
        ) as r on r.listing_id = l.id
        left join (select f.listing_id, count(*) as n from core.favorites as f group by f.listing_id) as f
            on f.listing_id = l.id
        left join (
            select p.listing_id, count(*) as n from core.listing_photos as p group by p.listing_id
        ) as p on p.listing_id = l.id
        where l.like_count <> coalesce(r.likes, 0) or l.dislike_count <> coalesce(r.dislikes, 0)
            or l.favorite_count <> coalesce(f.n, 0) or l.photo_count <> coalesce(p.n, 0)
    ),
    click_counters as (
        select l.id from core.listings as l
        left join (
            select d.listing_id, sum(d.clicks) as n from core.contact_clicks_daily as d group by d.listing_id
        ) as d on d.listing_id = l.id
        where l.contact_click_count <> coalesce(d.n, 0)
        union all
        select coalesce(d.listing_id, c.listing_id) from core.contact_clicks_daily as d
        full join (
            select c.listing_id, (c.clicked_at at time zone 'UTC')::date as day, count(*) as n
            from core.contact_clicks as c group by 1, 2
        ) as c on c.listing_id = d.listing_id and c.day = d.day
        where d.clicks is distinct from c.n
            -- older days outlive the log's retention in the rollup
            and coalesce(d.day, c.day)
                >= (select min(x.clicked_at at time zone 'UTC')::date from core.contact_clicks as x)
    ),
    price_history as (
        select l.id from core.listings as l
        join lateral (
            select h.price_amount, h.changed_at from core.listing_price_history as h where h.listing_id = l.id
            order by h.changed_at desc, h.id desc limit 1
        ) as h on true
        where h.price_amount <> l.price_amount or (l.status = 'sold' and h.changed_at > l.status_changed_at)
    ),
    shop_listings as (
        select l.id from core.listings as l
        join core.shop_members as m on m.shop_id = l.shop_id and m.user_id = l.seller_id
        where l.created_at < m.added_at
    ),
    status_history as (
        select l.id from core.listings as l
        join lateral (
            select h.to_status from core.listing_status_history as h where h.listing_id = l.id
            order by h.changed_at desc, h.id desc limit 1
        ) as h on true
        where h.to_status <> l.status
    ),
    partitions as (
        select c.id from core.contact_clicks_default as c
        union all select m.id from core.chat_messages_default as m
        union all select n.id from core.notifications_default as n
        union all select a.id from core.audit_log_default as a
    ),
    shop_owners as (
        select s.id from core.shops as s
        where not exists (select from core.shop_members as m where m.shop_id = s.id and m.role = 'owner')
    ),
    saved_search_matching as (
        select q.listing_id as id from core.saved_search_queue as q where q.attempts >= 3
    ),
    tag_limit as (
        select t.listing_id as id from core.listing_tags as t group by t.listing_id
        having count(*) > core.setting_int('max_tags_per_listing')
    ),
    found (rule, description, ids) as (
        select 'attributes', 'every listing''s attributes are what core.check_attributes makes of them for its '
            'kind and category', array(select v.id from attributes as v order by 1)
        union all select 'search_vector', 'every listing''s search vector is the one the trigger computes',
            array(select v.id from search_vector as v order by 1)
        union all select 'listing_cards', 'every listing''s kept card shows what its tables hold now',
            array(select v.id from listing_cards as v order by 1)
        union all select 'reserved_stock', 'a listing''s reserved units are what its open orders hold',
            array(select v.id from reserved_stock as v order by 1)
        union all select 'stock_status', 'no oversold stock: reserved listings hold every unit, listings on '
            'sale have a unit left', array(select v.id from stock_status as v order by 1)
        union all select 'seller_blocked', 'a listing is hidden exactly while its seller is blocked',
            array(select v.id from seller_blocked as v order by 1)
        union all select 'order_totals', 'an order''s total is the sum of its lines, all of one seller, not '
            'bought by that seller', array(select v.id from order_totals as v order by 1)
        union all select 'order_history', 'every order''s history starts reserved and ends in its status',
            array(select v.id from order_history as v order by 1)
        union all select 'deals_from_orders', 'each paid order has one confirmed deal between its buyer and '
            'seller, and only paid orders do', array(select v.id from deals_from_orders as v order by 1)
        union all select 'reviews_need_deals', 'reviews only with a confirmed deal, by its buyer about its '
            'seller, after the confirmation', array(select v.id from reviews_need_deals as v order by 1)
        union all select 'listing_counters', 'like, dislike, favorite and photo counts match the rows they '
            'count', array(select v.id from listing_counters as v order by 1)
        union all select 'click_counters', 'contact-click counters match the daily rollup, and the rollup the '
            'click log', array(select v.id from click_counters as v order by 1)
        union all select 'price_history', 'a listing''s last recorded price is its price; a sold listing''s '
            'price did not change after the sale', array(select v.id from price_history as v order by 1)
        union all select 'shop_listings', 'a shop''s listing was created by a member of the shop',
            array(select v.id from shop_listings as v order by 1)
        union all select 'status_history', 'each listing''s last recorded status is its status',
            array(select v.id from status_history as v order by 1)
        union all select 'partitions', 'time-series rows lie in their monthly partitions, not in the default '
            'ones', array(select v.id from partitions as v order by 1)
        union all select 'shop_owners', 'every shop has an owner', array(select v.id from shop_owners as v order by 1)
        union all select 'tag_limit', 'no listing carries more tags than max_tags_per_listing',
            array(select v.id from tag_limit as v order by 1)
        union all select 'saved_search_matching', 'every publication was matched against the saved searches '
            '(none failed three times)', array(select v.id from saved_search_matching as v order by 1)
    )
    select f.rule, f.description, cardinality(f.ids)::bigint, f.ids[1:5] from found as f
$$;
comment on function ops.integrity_report() is
'Every integrity rule of the marketplace with how many rows break it and up to five of their ids (the '
'rules'' ids are of the table each names: listings, orders, reviews, shops). Read-only.';

create or replace function ops.integrity_violations()
returns table (rule text, description text, violations bigint, sample_ids bigint[])
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select r.rule, r.description, r.violations, r.sample_ids from ops.integrity_report() as r
    where r.violations > 0
$$;
comment on function ops.integrity_violations() is
'The integrity rules some row breaks (ops.integrity_report without the clean ones): none on a sound '
'database. Read by `bazaar generate --check`, backup verification and the exporter.';
