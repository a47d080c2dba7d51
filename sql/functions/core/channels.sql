-- Telegram channel posts (ADR 0009): what a post shows, when it is queued, and the outbox's
-- claim and acknowledgement shared by user notifications and channel posts.

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
        'status', case l.status when 'published' then 'on_sale' when 'reserved' then 'reserved' else 'sold' end
    )
    from core.listings as l where l.id = p_listing_id
$$;
comment on function core.channel_snapshot(bigint) is
'What a channel post of the listing shows now: title, description, price, photos and status (on_sale, '
'reserved, or sold for every state off the market: sold, archived, expired, back in moderation).';

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
        select from core.listings as l where l.id = p_listing_id and l.status in ('published', 'reserved')
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

create or replace function core.claim_outbox(p_worker text, p_batch integer, p_targets text)
returns table (
    notification_id bigint, user_id bigint, channel text, kind text, payload jsonb, destination text,
    attempts integer, claimed_until timestamptz, channel_post_id bigint
)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_until timestamptz := now() + core.setting_interval('outbox_lease');
    v_max integer := core.setting_int('outbox_max_attempts');
begin
    if p_worker is null or p_worker !~ '^[A-Za-z0-9._:-]{1,100}$' then
        perform core.raise_invalid('name the worker (1-100 letters, digits, . _ : -)');
    end if;
    if p_batch is null or p_batch not between 1 and 1000 then
        perform core.raise_invalid('the batch size must be between 1 and 1000');
    end if;
    -- Set aside what failed outbox_max_attempts times (its last lease ran out): it must not hold
    -- back the rest of its target's rows forever.
    update core.notifications as n set failed_at = now()
    where n.delivered_at is null and n.failed_at is null and n.attempts >= v_max and n.claimed_until < now();
    -- Claimable: not delivered or failed, not leased (or the lease ran out), and the oldest pending
    -- one of its target (a user on one channel, or a channel post), so one target's rows go out
    -- one at a time, in order. SKIP LOCKED keeps two workers off the same rows. P_TARGETS: all,
    -- users or channels.
    return query
    with claimable as (
        select n.id, n.created_at
        from core.notifications as n
        where n.delivered_at is null and n.failed_at is null
            and (n.claimed_until is null or n.claimed_until < now())
            and (p_targets = 'all' or (p_targets = 'users') = (n.user_id is not null))
            and not exists (
                select from core.notifications as e
                where e.user_id = n.user_id and e.channel = n.channel
                    and e.delivered_at is null and e.failed_at is null and e.id < n.id
            )
            and not exists (
                select from core.notifications as e
                where e.channel_post_id = n.channel_post_id
                    and e.delivered_at is null and e.failed_at is null and e.id < n.id
            )
        order by n.id
        limit p_batch
        for update skip locked
    ),
    claimed as (
        update core.notifications as n
        set claimed_by = p_worker, claimed_until = v_until, attempts = n.attempts + 1
        from claimable as c
        where n.id = c.id and n.created_at = c.created_at
        returning n.*
    )
    select c.id, c.user_id, c.channel::text, c.kind,
        case when c.channel_post_id is null then c.payload
             else c.payload || jsonb_build_object('telegram_message_id', p.telegram_message_id) end,
        case when c.channel_post_id is not null then ch.telegram_chat_id::text
             when c.channel = 'email' then u.email when c.channel = 'sms' then u.phone
             else u.telegram_chat_id::text end,
        c.attempts, c.claimed_until, c.channel_post_id
    from claimed as c
    left join core.users as u on u.id = c.user_id
    left join core.channel_posts as p on p.id = c.channel_post_id
    left join core.telegram_channels as ch on ch.id = p.channel_id
    order by c.id;
end
$$;
comment on function core.claim_outbox(text, integer, text) is
'The outbox claim shared by api.claim_notifications and api.claim_channel_posts: lease up to P_BATCH '
'rows (targets all, users or channels) to P_WORKER, oldest first, one at a time per target (a user on '
'one channel, or a channel post); after outbox_max_attempts a row is set aside (failed_at). The '
'destination is the user''s contact or the channel''s chat id. 22023 bad worker or batch.';

create or replace function core.ack_outbox(p_id bigint, p_worker text) returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.notifications;
begin
    select n.* into v_row from core.notifications as n where n.id = p_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no notification %s', p_id);
    end if;
    if v_row.delivered_at is not null then
        return false;  -- acknowledging twice is harmless
    end if;
    if v_row.claimed_by is distinct from p_worker or v_row.claimed_until < now() then
        raise exception using
            errcode = '55000',
            message = format('notification %s is not leased to %s', p_id, p_worker),
            hint = 'its lease ran out and it may have gone to another worker: claim again';
    end if;
    update core.notifications as n set delivered_at = now()
    where n.id = p_id and n.created_at = v_row.created_at;
    return true;
end
$$;
comment on function core.ack_outbox(bigint, text) is
'Mark an outbox row leased to P_WORKER delivered: true, or false when it was delivered before (twice '
'is harmless). P0002 no such row; 55000 not (or no longer) leased to P_WORKER.';
