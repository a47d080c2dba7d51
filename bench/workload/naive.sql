-- The naive schema (issue 18): the same rows as a textbook ORM would keep them. The same tables and
-- columns a listing search reads, primary keys and foreign keys only: no partial, covering,
-- trigram or full-text index, no search vector, no kept card. bench/scale.py copies the data in.
create schema naive;
create table naive.categories as select c.id, c.slug, c.name, c.parent_id, c.path from core.categories as c;
create table naive.vehicle_makes as select m.id, m.name from core.vehicle_makes as m;
create table naive.vehicle_models as select m.id, m.make_id, m.name from core.vehicle_models as m;
create table naive.users as select u.id, u.display_name from core.users as u;
create table naive.listings as
select
    l.id, l.kind::text as kind, l.status::text as status, l.category_id, l.seller_id, l.shop_id, l.title,
    l.description, l.brand, l.model_id, l.region, l.city, l.price_amount, l.currency, l.attributes,
    l.sort_date, l.created_at, l.photo_count
from core.listings as l;
create table naive.part_fitments as
select f.listing_id, f.model_id, f.year_from, f.year_to from core.part_fitments as f;
alter table naive.categories add primary key (id);
alter table naive.vehicle_makes add primary key (id);
alter table naive.vehicle_models add primary key (id),
add foreign key (make_id) references naive.vehicle_makes (id);
alter table naive.users add primary key (id);
alter table naive.listings add primary key (id),
add foreign key (category_id) references naive.categories (id),
add foreign key (seller_id) references naive.users (id),
add foreign key (model_id) references naive.vehicle_models (id);
alter table naive.part_fitments add primary key (listing_id, model_id, year_from),
add foreign key (listing_id) references naive.listings (id),
add foreign key (model_id) references naive.vehicle_models (id);
analyze naive.categories, naive.vehicle_makes, naive.vehicle_models, naive.users, naive.listings, naive.part_fitments;
