-- Listings: the category tree with per-kind/per-category attribute definitions, the vehicle
-- catalog and part fitment, listings with their status machine, photos, price history,
-- favorites, likes/dislikes, ads, and what search needs (weighted tsvector, trigrams).

create extension pg_trgm with schema ext;

create type core.listing_kind as enum ('car', 'part', 'service');
comment on type core.listing_kind is
'car: a vehicle for sale; part: an auto part; service: made-to-order manufacturing.';

create type core.listing_status as enum (
    'draft', 'pending', 'published', 'reserved', 'sold', 'rejected', 'archived', 'expired'
);
comment on type core.listing_status is
'Where a listing is in its life; legal moves are rows of core.listing_transitions.';

create type core.reaction as enum ('like', 'dislike');
comment on type core.reaction is 'A user''s reaction to a listing.';

insert into core.settings (key, value, description) values
('bump_interval', '"24 hours"', 'Minimum time between two bumps of one listing.'),
('max_photos', '20', 'Photos per listing.'),
('search_page_max', '100', 'Largest page a search may ask for.');

-- Categories ---------------------------------------------------------------------------------

create table core.categories (
    id bigint generated always as identity,
    parent_id bigint,
    slug text not null,
    name text not null,
    kind core.listing_kind not null,
    listing_lifetime interval not null default interval '60 days',
    path bigint[] not null,
    constraint pk_categories primary key (id),
    constraint fk_categories_parent_id_categories foreign key (parent_id)
    references core.categories (id) on delete restrict,
    constraint check_categories_slug_format check (slug ~ '^[a-z0-9-]{2,60}$'),
    constraint check_categories_lifetime check (
        listing_lifetime between interval '1 day' and interval '2 years'
    )
);
comment on table core.categories is
'The category tree. PATH lists the ids from the root to the category itself, so a subtree is `path '
'@> array[id]`.';

create unique index index_categories_on_slug on core.categories (slug);
create index index_categories_on_parent_id on core.categories (parent_id);
create index index_categories_on_path on core.categories using gin (path);

create function core.set_category_path() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_parent core.categories;
begin
    if new.parent_id is null then
        new.path := array[new.id];
    else
        select c.* into strict v_parent from core.categories as c where c.id = new.parent_id;
        if v_parent.kind <> new.kind then
            raise exception using errcode = '22023',
                message = format('category %s must hold %s listings like its parent', new.slug, v_parent.kind);
        end if;
        new.path := v_parent.path || new.id;
    end if;
    return new;
end
$$;
comment on function core.set_category_path() is 'Trigger: compute core.categories.path from the parent.';

create trigger categories_set_path
before insert or update of parent_id on core.categories
for each row execute function core.set_category_path();

-- Attribute definitions: what a listing of a kind (and category) must or may carry.
create table core.attribute_definitions (
    id bigint generated always as identity,
    kind core.listing_kind not null,
    category_id bigint,
    name text not null,
    label text not null,
    value_type text not null,
    required boolean not null default false,
    min_value numeric,
    max_value numeric,
    max_length integer,
    pattern text,
    allowed_values text[],
    constraint pk_attribute_definitions primary key (id),
    constraint fk_attribute_definitions_category_id_categories foreign key (category_id)
    references core.categories (id) on delete cascade,
    constraint check_attribute_definitions_name check (name ~ '^[a-z][a-z0-9_]{1,40}$'),
    constraint check_attribute_definitions_value_type check (
        value_type in ('text', 'integer', 'number', 'boolean', 'enum')
    ),
    constraint check_attribute_definitions_enum check ((value_type = 'enum') = (allowed_values is not null))
);
comment on table core.attribute_definitions is
'Kind-specific fields: for a kind (category NULL) or one category and its subcategories; checked by '
'core.check_attributes.';

create unique index index_attribute_definitions_on_kind_category_name
on core.attribute_definitions (kind, coalesce(category_id, 0), name);
create index index_attribute_definitions_on_category_id on core.attribute_definitions (category_id);

-- Vehicle catalog ----------------------------------------------------------------------------

create table core.vehicle_makes (
    id bigint generated always as identity,
    name text not null,
    constraint pk_vehicle_makes primary key (id)
);
comment on table core.vehicle_makes is 'Car makes of the vehicle catalog.';
create unique index index_vehicle_makes_on_lower_name on core.vehicle_makes (lower(name));

create table core.vehicle_models (
    id bigint generated always as identity,
    make_id bigint not null,
    name text not null,
    constraint pk_vehicle_models primary key (id),
    constraint fk_vehicle_models_make_id_vehicle_makes foreign key (make_id)
    references core.vehicle_makes (id) on delete cascade
);
comment on table core.vehicle_models is 'Models of each make.';
create unique index index_vehicle_models_on_make_id_lower_name on core.vehicle_models (make_id, lower(name));

create table core.vehicle_generations (
    id bigint generated always as identity,
    model_id bigint not null,
    name text not null,
    year_from integer not null,
    year_to integer,
    constraint pk_vehicle_generations primary key (id),
    constraint fk_vehicle_generations_model_id_vehicle_models foreign key (model_id)
    references core.vehicle_models (id) on delete cascade,
    constraint check_vehicle_generations_years check (
        year_from between 1950 and 2100 and (year_to is null or year_to >= year_from)
    )
);
comment on table core.vehicle_generations is
'Generations of a model with their production years (year_to NULL: current).';
create index index_vehicle_generations_on_model_id on core.vehicle_generations (model_id);

-- Listings -----------------------------------------------------------------------------------

-- Defined here, not in sql/functions/: a generated column of core.listings uses it.
create function core.normalize_part_number(p_value text) returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
return nullif(upper(regexp_replace(p_value, '[^0-9A-Za-z]', '', 'g')), '');
comment on function core.normalize_part_number(text) is
'A part number as compared: letters and digits only, upper case (0 986 494 294 and 0986494294 are equal).';

create table core.listings (
    id bigint generated always as identity,
    kind core.listing_kind not null,
    category_id bigint not null,
    seller_id bigint not null,
    shop_id bigint,
    title text not null,
    description text not null default '',
    brand text,
    model_id bigint,
    region text not null,
    city text not null,
    price_amount bigint not null,
    currency text not null default 'RUB',
    wholesale_price_amount bigint,
    wholesale_min_quantity integer,
    quantity integer not null default 1,
    contact_name text,
    contact_phone text,
    attributes jsonb not null default '{}',
    part_number text generated always as (core.normalize_part_number(attributes ->> 'part_number')) stored,
    status core.listing_status not null default 'draft',
    status_changed_at timestamptz not null default now(),
    rejection_reason text,
    created_at timestamptz not null default now(),
    sort_date timestamptz not null default now(),
    bumped_at timestamptz,
    published_at timestamptz,
    expires_at timestamptz,
    promoted_until timestamptz,
    ad_insert text,
    ad_campaign_id bigint,
    photo_count integer not null default 0,
    like_count integer not null default 0,
    dislike_count integer not null default 0,
    favorite_count integer not null default 0,
    search_vector tsvector not null default '',
    constraint pk_listings primary key (id),
    constraint fk_listings_category_id_categories foreign key (category_id)
    references core.categories (id) on delete restrict,
    constraint fk_listings_seller_id_users foreign key (seller_id) references core.users (
        id
    ) on delete cascade,
    constraint fk_listings_shop_id_shops foreign key (shop_id) references core.shops (id) on delete cascade,
    constraint fk_listings_model_id_vehicle_models foreign key (model_id)
    references core.vehicle_models (id) on delete restrict,
    constraint check_listings_title_length check (char_length(title) between 3 and 120),
    constraint check_listings_description_length check (char_length(description) <= 5000),
    constraint check_listings_price check (price_amount > 0),
    constraint check_listings_currency check (currency ~ '^[A-Z]{3}$'),
    constraint check_listings_wholesale check (
        (wholesale_price_amount is null and wholesale_min_quantity is null)
        or (
            wholesale_price_amount > 0
            and wholesale_price_amount < price_amount
            and wholesale_min_quantity >= 2
        )
    ),
    constraint check_listings_quantity check (quantity >= 0),
    constraint check_listings_counts check (
        like_count >= 0 and dislike_count >= 0 and favorite_count >= 0 and photo_count >= 0
    ),
    constraint check_listings_car_model check ((kind = 'car') <= (model_id is not null)),
    constraint check_listings_rejection check ((status = 'rejected') = (rejection_reason is not null))
);
comment on table core.listings is
'Cars, parts and services for sale, from a person or a shop. sort_date orders the feed (bumps move it); '
'created_at never changes. Counters are kept exact by the functions that change them.';
comment on column core.listings.part_number is
'The OEM/part number normalised (upper case, letters and digits only).';
comment on column core.listings.price_amount is 'Unit price in minor units (kopecks for RUB).';

-- The feed and browsing: published listings, promoted first, newest first.
create index index_listings_on_feed on core.listings (sort_date desc, id desc) where status = 'published';
create index index_listings_on_price on core.listings (price_amount, id) where status = 'published';
create index index_listings_on_promoted_until on core.listings (promoted_until) where status = 'published';
create index index_listings_on_part_number on core.listings (part_number) where part_number is not null;
create index index_listings_on_search_vector on core.listings using gin (search_vector);
create index index_listings_on_title_trgm on core.listings using gin (lower(title) ext.gin_trgm_ops);
create index index_listings_on_seller_id on core.listings (seller_id, sort_date desc);
create index index_listings_on_shop_id on core.listings (shop_id, sort_date desc) where shop_id is not null;
create index index_listings_on_model_id on core.listings (model_id) where model_id is not null;
create index index_listings_on_category_id on core.listings (category_id);
create index index_listings_on_pending on core.listings (status_changed_at, id) where status = 'pending';
create index index_listings_on_expiry on core.listings (expires_at) where status = 'published';
create index index_listings_on_ad_campaign_id on core.listings (
    ad_campaign_id
) where ad_campaign_id is not null;

-- What full-text search reads: title (A), brand, vehicle and part number (B), description (C).
-- The russian configuration stems Cyrillic words with the Russian stemmer and ASCII words with
-- the English one, so one vector serves both languages; names are also indexed unstemmed.
create function core.set_listing_search_vector() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_names text;
begin
    -- (generated columns are not computed yet in a BEFORE trigger: normalise here)
    select concat_ws(' ', new.brand, mk.name, m.name, core.normalize_part_number(new.attributes ->> 'part_number'))
    into v_names
    from (select) as dummy
    left join core.vehicle_models as m on m.id = new.model_id
    left join core.vehicle_makes as mk on mk.id = m.make_id;
    new.search_vector :=
        setweight(to_tsvector('russian', new.title), 'A')
        || setweight(to_tsvector('russian', v_names) || to_tsvector('simple', v_names), 'B')
        || setweight(to_tsvector('russian', new.description), 'C');
    return new;
end
$$;
comment on function core.set_listing_search_vector() is
'Trigger: keep core.listings.search_vector in step with the row.';

create trigger listings_set_search_vector
before insert or update of title, description, brand, model_id, attributes on core.listings
for each row execute function core.set_listing_search_vector();

create table core.listing_transitions (
    from_status core.listing_status not null,
    to_status core.listing_status not null,
    constraint pk_listing_transitions primary key (from_status, to_status)
);
comment on table core.listing_transitions is
'The legal moves of the listing status machine; anything else raises 55000.';

insert into core.listing_transitions (from_status, to_status) values
('draft', 'pending'), ('draft', 'archived'),
('pending', 'published'), ('pending', 'rejected'), ('pending', 'archived'),
('rejected', 'pending'), ('rejected', 'archived'),
('published', 'reserved'), ('published', 'sold'), ('published', 'archived'), ('published', 'expired'),
('reserved', 'published'), ('reserved', 'sold'),
('expired', 'pending'), ('expired', 'archived'),
('archived', 'pending');

create table core.listing_status_history (
    id bigint generated always as identity,
    listing_id bigint not null,
    from_status core.listing_status,
    to_status core.listing_status not null,
    changed_at timestamptz not null default now(),
    changed_by bigint,
    reason text,
    constraint pk_listing_status_history primary key (id),
    constraint fk_listing_status_history_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_listing_status_history_changed_by_users foreign key (changed_by)
    references core.users (id) on delete set null
);
comment on table core.listing_status_history is
'Every status change of every listing: from, to, when, who, why.';
create index index_listing_status_history_on_listing_id on core.listing_status_history (listing_id, id);
create index index_listing_status_history_on_changed_by on core.listing_status_history (changed_by);

create table core.listing_price_history (
    id bigint generated always as identity,
    listing_id bigint not null,
    price_amount bigint not null,
    currency text not null,
    wholesale_price_amount bigint,
    wholesale_min_quantity integer,
    changed_at timestamptz not null default now(),
    changed_by bigint,
    constraint pk_listing_price_history primary key (id),
    constraint fk_listing_price_history_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_listing_price_history_changed_by_users foreign key (changed_by)
    references core.users (id) on delete set null
);
comment on table core.listing_price_history is 'Every price a listing has had, the first one included.';
create index index_listing_price_history_on_listing_id on core.listing_price_history (listing_id, id);
create index index_listing_price_history_on_changed_by on core.listing_price_history (changed_by);

create table core.listing_photos (
    listing_id bigint not null,
    position integer not null,
    storage_key text not null,
    constraint pk_listing_photos primary key (listing_id, position),
    constraint fk_listing_photos_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint check_listing_photos_position check (position between 1 and 100),
    constraint check_listing_photos_storage_key check (storage_key ~ '^[A-Za-z0-9][A-Za-z0-9/._-]{2,255}$')
);
comment on table core.listing_photos is 'Ordered photos of a listing: object-storage keys, position 1 first.';

create table core.part_fitments (
    listing_id bigint not null,
    model_id bigint not null,
    year_from integer not null,
    year_to integer not null,
    added_by bigint,
    added_at timestamptz not null default now(),
    constraint pk_part_fitments primary key (listing_id, model_id, year_from),
    constraint fk_part_fitments_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_part_fitments_model_id_vehicle_models foreign key (model_id)
    references core.vehicle_models (id) on delete cascade,
    constraint fk_part_fitments_added_by_users foreign key (added_by) references core.users (
        id
    ) on delete set null,
    constraint check_part_fitments_years check (year_from between 1950 and 2100 and year_to >= year_from)
);
comment on table core.part_fitments is 'Which vehicles (model and years) a part fits.';
create index index_part_fitments_on_model_id on core.part_fitments (model_id, year_from, year_to);
create index index_part_fitments_on_added_by on core.part_fitments (added_by);

create table core.favorites (
    user_id bigint not null,
    listing_id bigint not null,
    created_at timestamptz not null default now(),
    constraint pk_favorites primary key (user_id, listing_id),
    constraint fk_favorites_user_id_users foreign key (user_id) references core.users (id) on delete cascade,
    constraint fk_favorites_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade
);
comment on table core.favorites is 'Wish lists: the listings each user saved.';
create index index_favorites_on_listing_id on core.favorites (listing_id);
create index index_favorites_on_user_id_created_at on core.favorites (user_id, created_at desc);

create table core.listing_reactions (
    user_id bigint not null,
    listing_id bigint not null,
    reaction core.reaction not null,
    reacted_at timestamptz not null default now(),
    constraint pk_listing_reactions primary key (user_id, listing_id),
    constraint fk_listing_reactions_user_id_users foreign key (user_id) references core.users (
        id
    ) on delete cascade,
    constraint fk_listing_reactions_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade
);
comment on table core.listing_reactions is 'At most one like or dislike per user and listing.';
create index index_listing_reactions_on_listing_id on core.listing_reactions (listing_id);

create table core.ad_campaigns (
    id bigint generated always as identity,
    category_id bigint not null,
    title text not null,
    body text not null,
    starts_at timestamptz not null default now(),
    ends_at timestamptz not null,
    created_by bigint,
    created_at timestamptz not null default now(),
    constraint pk_ad_campaigns primary key (id),
    constraint fk_ad_campaigns_category_id_categories foreign key (category_id)
    references core.categories (id) on delete cascade,
    constraint fk_ad_campaigns_created_by_users foreign key (created_by)
    references core.users (id) on delete set null,
    constraint check_ad_campaigns_period check (ends_at > starts_at)
);
comment on table core.ad_campaigns is
'Advertising campaigns shown inside a random published listing of a category.';
create index index_ad_campaigns_on_category_id on core.ad_campaigns (category_id);
create index index_ad_campaigns_on_created_by on core.ad_campaigns (created_by);

alter table core.listings add constraint fk_listings_ad_campaign_id_ad_campaigns
foreign key (ad_campaign_id) references core.ad_campaigns (id) on delete set null;
