-- Telegram channel posts (ADR 0009): what a post shows and when an edit is queued. The outbox's
-- claim and acknowledgement, shared with user notifications, are in core/notifications.sql.

create or replace function core.channel_snapshot(p_listing_id bigint) returns jsonb
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select jsonb_build_object(
        'title', l.title,
        'description', l.description,
        'price_amount', l.price_amount,
        'currency', l.currency,
        'photos', array(select p.storage_key from core.listing_photos as p where p.listing_id = l.id
                        order by p.position),
        'status', case when l.seller_blocked then 'sold' when l.status = 'published' then 'on_sale'
                       when l.status = 'reserved' then 'reserved' else 'sold' end
    )
    from core.listings as l where l.id = p_listing_id
$$;
comment on function core.channel_snapshot(bigint) is
'What a channel post of the listing shows now: title, description, price, photos and status (on_sale, '
'reserved, or sold for every state off the market: sold, archived, expired, back in moderation, its '
'seller blocked).';

create or replace function core.channel_content(p_snapshot jsonb) returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select p_snapshot - 'price_amount' - 'currency'
$$;
comment on function core.channel_content(jsonb) is
'The part of a snapshot whose change edits a channel post: everything but the price (a price-only '
'change updates the site and leaves the post alone).';

create or replace function core.queue_channel_post(p_post_id bigint, p_kind text, p_snapshot jsonb)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_post core.channel_posts;
begin
    update core.channel_posts as p set queued_snapshot = p_snapshot where p.id = p_post_id
    returning p.* into v_post;
    insert into core.notifications (user_id, channel_post_id, channel, kind, payload)
    values (null, p_post_id, 'telegram', p_kind,
            jsonb_build_object('post_id', p_post_id, 'channel_id', v_post.channel_id,
                               'listing_id', v_post.listing_id, 'snapshot', p_snapshot,
                               'marked_sold', p_snapshot ->> 'status' = 'sold'));
end
$$;
comment on function core.queue_channel_post(bigint, text, jsonb) is
'Queue a channel post (kind channel_post) or its edit (channel_post_edit) in the outbox with the '
'snapshot to show, and remember it as the post''s queued_snapshot.';

create or replace function core.sync_channel_posts(p_listing_id bigint) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_snapshot jsonb := core.channel_snapshot(p_listing_id);
    v_on_sale boolean := exists (
        select from core.listings as l
        where l.id = p_listing_id and l.status in ('published', 'reserved') and not l.seller_blocked
    );
    v_post core.channel_posts;
    v_new jsonb;
    v_count integer := 0;
begin
    for v_post in
        select p.* from core.channel_posts as p where p.listing_id = p_listing_id order by p.id
    loop
        -- Off the market (archived, expired, back in moderation, rejected), edits of the listing
        -- are not moderated content: the post keeps what it showed and is only marked sold. The
        -- content follows again when the listing is published (or released from reservation).
        v_new := case when v_on_sale then v_snapshot
                      else v_post.queued_snapshot || jsonb_build_object('status', v_snapshot ->> 'status') end;
        if core.channel_content(v_post.queued_snapshot) is distinct from core.channel_content(v_new) then
            perform core.queue_channel_post(v_post.id, 'channel_post_edit', v_new);
            v_count := v_count + 1;
        end if;
    end loop;
    return v_count;
end
$$;
comment on function core.sync_channel_posts(bigint) is
'Queue an edit of each channel post of the listing whose shown content (not the price) differs from '
'the last version queued; off the market only the status changes (unmoderated edits never reach a '
'channel). Returns how many.';

create or replace function core.publish_to_channels(p_listing core.listings) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_snapshot jsonb := core.channel_snapshot(p_listing.id);
    v_post_id bigint;
    v_count integer := 0;
begin
    -- posts from an earlier publication are edited back on sale; new matching channels get a post
    perform core.sync_channel_posts(p_listing.id);
    for v_post_id in
        insert into core.channel_posts (channel_id, listing_id, queued_snapshot)
        select ch.id, p_listing.id, v_snapshot
        from core.telegram_channels as ch
        where ch.active
            and (ch.region is null or lower(ch.region) = lower(p_listing.region))
            and (ch.category_id is null or ch.category_id = any(
                select unnest(c.path) from core.categories as c where c.id = p_listing.category_id))
        order by ch.id
        on conflict (channel_id, listing_id) do nothing
        returning id
    loop
        perform core.queue_channel_post(v_post_id, 'channel_post', v_snapshot);
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
comment on function core.publish_to_channels(core.listings) is
'On publication: queue a post in every active channel whose region and category subtree match the '
'listing and that has none yet; existing posts get an edit if their content changed. Returns new posts.';
