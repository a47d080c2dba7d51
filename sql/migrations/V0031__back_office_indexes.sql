-- The shop's back office and a person's deals (issue 17) are read newest first in keyset pages:
-- indexes that hold them in that order, so a page is an index range, whatever the shop's size.
create index index_listings_on_shop_id_created_at on core.listings (shop_id, created_at desc, id desc)
where shop_id is not null;
create index index_orders_on_shop_id_created_at on core.orders (shop_id, created_at desc, id desc)
where shop_id is not null;
drop index core.index_orders_on_shop_id;
create index index_deals_on_buyer_id_created_at on core.deals (buyer_id, created_at desc, id desc);
create index index_deals_on_seller_id_created_at on core.deals (seller_id, created_at desc, id desc);
