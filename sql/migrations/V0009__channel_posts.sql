-- Telegram channel posts: channels configured by staff, one post per channel and listing, and the
-- outbox extended so a notification targets either a user or a channel post (ADR 0009).

create table core.telegram_channels (
    id bigint generated always as identity,
    name text not null,
    telegram_chat_id bigint not null,
    region text,
    category_id bigint,
    active boolean not null default true,
    created_by bigint,
    created_at timestamptz not null default now(),
    constraint pk_telegram_channels primary key (id),
    constraint fk_telegram_channels_category_id_categories foreign key (category_id)
    references core.categories (id) on delete restrict,
    constraint fk_telegram_channels_created_by_users foreign key (created_by)
    references core.users (id) on delete set null,
    constraint check_telegram_channels_name check (char_length(name) between 2 and 80),
    constraint check_telegram_channels_region check (char_length(region) between 2 and 80),
    constraint check_telegram_channels_chat_id check (telegram_chat_id <> 0)
);
comment on table core.telegram_channels is
'A Telegram channel the marketplace posts listings to: those of a region (case-insensitive), of a '
'category subtree, of both, or (neither set) all. Inactive channels get no new posts.';
create unique index index_telegram_channels_on_name on core.telegram_channels (lower(name));
create unique index index_telegram_channels_on_telegram_chat_id on core.telegram_channels (telegram_chat_id);
create index index_telegram_channels_on_category_id on core.telegram_channels (category_id);
create index index_telegram_channels_on_created_by on core.telegram_channels (created_by);

create table core.channel_posts (
    id bigint generated always as identity,
    channel_id bigint not null,
    listing_id bigint not null,
    telegram_message_id bigint,
    snapshot jsonb,
    queued_snapshot jsonb not null,
    created_at timestamptz not null default now(),
    delivered_at timestamptz,
    constraint pk_channel_posts primary key (id),
    constraint fk_channel_posts_channel_id_telegram_channels foreign key (channel_id)
    references core.telegram_channels (id) on delete cascade,
    constraint fk_channel_posts_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade
);
comment on table core.channel_posts is
'A listing''s post in a channel. snapshot is what the channel shows (the last delivered version, null '
'until the first delivery); queued_snapshot the last version sent to the outbox.';
comment on column core.channel_posts.telegram_message_id is 'The channel message id the worker reported.';
create unique index index_channel_posts_on_channel_id_listing_id
on core.channel_posts (channel_id, listing_id);
create index index_channel_posts_on_listing_id on core.channel_posts (listing_id);

-- The outbox targets a user or a channel post; one target's rows still go out in order.
alter table core.notifications
alter column user_id drop not null,
add column channel_post_id bigint,
add constraint fk_notifications_channel_post_id_channel_posts foreign key (channel_post_id)
references core.channel_posts (id) on delete cascade,
add constraint check_notifications_one_target check ((user_id is null) <> (channel_post_id is null));
comment on column core.notifications.channel_post_id is
'Set (instead of user_id) for a channel post or its edit; delivered to the channel''s chat.';
create index index_notifications_on_channel_post_id on core.notifications (channel_post_id, id);
