-- What the workload scripts draw their arguments from (issue 18): schema bench of the scratch
-- database, numbered 1..N so that pgbench's random(1, :count) picks a row by primary key. Drawn
-- from the generated data; bench/scale.py runs this once per database and passes the counts.
create schema bench;

-- public listings (the card)
create table bench.cards as
select row_number() over (order by l.id)::integer as n, l.id
from core.listings as l
where l.status in ('published', 'reserved', 'sold') and not l.seller_blocked;

-- categories with something on sale (feeds)
create table bench.categories as
select row_number() over (order by x.category_id)::integer as n, x.category_id as id
from (
    select distinct l.category_id from core.listings as l where l.status = 'published' and not l.seller_blocked
) as x;

-- a later page of a feed: filled by bench/scale.py with the cursor api.search handed out, and how
-- many rows came before it (the naive schema's OFFSET)
create table bench.feed_cursors (n integer, category_id bigint, cursor text, skipped integer);

-- a word of a real title (at least five letters), with the listing's top category and region
create table bench.search_terms as
select row_number() over (order by x.query, x.category_id, x.region)::integer as n, x.*
from (
    select distinct on (w.query) w.query, c.path[1] as category_id, w.region
    from (
        select lower(substring(l.title from '[[:alpha:]]{5,}')) as query, l.category_id, l.region, l.id
        from core.listings as l
        where l.status = 'published' and not l.seller_blocked
    ) as w
    join core.categories as c on c.id = w.category_id
    where w.query is not null
    order by w.query, w.id
) as x;

-- part numbers of parts on sale, typed as printed on a box (with spaces)
create table bench.part_numbers as
select row_number() over (order by x.typed)::integer as n, x.typed
from (
    select distinct l.attributes ->> 'part_number' as typed
    from core.listings as l
    where l.status = 'published' and l.part_number is not null and not l.seller_blocked
    limit 5000
) as x;

-- a car a fitted part on sale is for: make, model and a year in its range
create table bench.fitments as
select row_number() over (order by x.model_id, x.year)::integer as n, x.*
from (
    select distinct m.make_id, f.model_id, (f.year_from + f.year_to) / 2 as year
    from core.part_fitments as f
    join core.vehicle_models as m on m.id = f.model_id
    join core.listings as l on l.id = f.listing_id
    where l.status = 'published' and not l.seller_blocked
) as x;

-- sellers with listings on sale
create table bench.sellers as
select row_number() over (order by x.seller_id)::integer as n, x.seller_id as id
from (
    select distinct l.seller_id from core.listings as l where l.status = 'published' and not l.seller_blocked
) as x;

-- 500 signed-in buyers: people who sell nothing and belong to no shop, with a session each
create table bench.people as
select
    row_number() over (order by u.id)::integer as n, u.id,
    encode(sha256(convert_to('bench-' || u.id, 'UTF8')), 'hex') as token
from core.users as u
where u.role = 'user' and u.blocked_at is null
    and not exists (select from core.listings as l where l.seller_id = u.id)
    and not exists (select from core.shop_members as m where m.user_id = u.id)
order by u.id
limit 500;
insert into core.sessions (user_id, token_hash, method, expires_at)
select p.id, core.token_hash(p.token), 'password', now() + interval '1 day' from bench.people as p;

-- listings on sale with chat on (favorites, contacts, chat)
create table bench.on_sale as
select row_number() over (order by l.id)::integer as n, l.id
from core.listings as l
where l.status = 'published' and not l.seller_blocked and l.chat_enabled and l.kind <> 'service';

-- goods with stock to spare (orders: reserved and cancelled again, so the stock stays)
create table bench.in_stock as
select row_number() over (order by l.id)::integer as n, l.id
from core.listings as l
where l.status = 'published' and not l.seller_blocked and l.kind = 'part' and l.quantity - l.reserved_quantity >= 10;

-- a moderator with a session, and the listings waiting for one, approved in this order
create table bench.moderator as
select encode(sha256(convert_to('bench-moderator-' || u.id, 'UTF8')), 'hex') as token, u.id
from core.users as u where u.role = 'moderator' and u.blocked_at is null order by u.id limit 1;
insert into core.sessions (user_id, token_hash, method, expires_at)
select m.id, core.token_hash(m.token), 'password', now() + interval '1 day' from bench.moderator as m;
create table bench.pending as
select row_number() over (order by l.status_changed_at, l.id)::integer as n, l.id
from core.listings as l
where l.status = 'pending';
create sequence bench.pending_order;

-- 500 simulated people make the traffic of many: the abuse limits, at their highest, spread over them
update core.settings set value = '10000' where key = 'contact_reveal_limit';
update core.settings set value = '1000' where key = 'chat_flood_limit';
update core.settings set value = '"1 second"' where key = 'chat_flood_window';

alter table bench.cards add primary key (n);
alter table bench.categories add primary key (n);
alter table bench.search_terms add primary key (n);
alter table bench.part_numbers add primary key (n);
alter table bench.fitments add primary key (n);
alter table bench.sellers add primary key (n);
alter table bench.people add primary key (n);
alter table bench.on_sale add primary key (n);
alter table bench.in_stock add primary key (n);
alter table bench.pending add primary key (n);

-- pgbench connects as an application would: a login role in bazaar_app, which reads the samples
-- (roles belong to the server: made once, whichever database is prepared first)
do $$
begin
    create role bench_app login in role bazaar_app;
exception when duplicate_object then
    null;
end
$$;
grant usage on schema bench to bazaar_app;
grant select on all tables in schema bench to bazaar_app;
grant usage on sequence bench.pending_order to bazaar_app;
