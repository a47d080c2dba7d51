-- The baseline of card.sql: the one statement api.listing_card runs, as a plain query (anonymous:
-- no insider columns), so card / card_plain is what the function itself costs.
\set n random(1, :cards)
select l.id, l.kind::text, l.status::text, l.title, l.description, l.category_id, k.category, l.brand,
    k.make, k.model, l.region, l.city, l.price_amount, l.currency, l.wholesale_price_amount,
    l.wholesale_min_quantity, l.quantity, l.attributes, k.photos, k.fitment, l.seller_id, k.seller_name,
    l.shop_id, k.shop_name, l.quantity - l.reserved_quantity, l.quantity - l.reserved_quantity = 0,
    l.chat_enabled, l.contact_click_count, l.created_at, l.sort_date, coalesce(l.promoted_until > now(), false),
    coalesce(l.ad_insert, (select a.title || ': ' || a.body from core.ad_campaigns as a
                           where a.id = l.ad_campaign_id and now() between a.starts_at and a.ends_at)),
    l.like_count, l.dislike_count, l.favorite_count, l.rejection_reason, k.tags, null::jsonb
from core.listings as l
join core.listing_cards as k on k.listing_id = l.id
where l.id = (select c.id from bench.cards as c where c.n = :n)
    and l.status in ('published', 'reserved', 'sold') and not l.seller_blocked;
