-- The outbox: core.notify queues a notification in the caller's transaction; delivery workers
-- claim rows (leases, one target at a time, in order) and acknowledge them (ADR 0009).

create or replace function core.notify(p_user_id bigint, p_kind text, p_payload jsonb) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer;
begin
    -- one row per channel the user prefers, in the caller's transaction (the outbox idea)
    insert into core.notifications (user_id, channel, kind, payload)
    select u.id, c.channel, p_kind, p_payload
    from core.users as u, unnest(u.notification_channels) as c (channel)
    where u.id = p_user_id and u.blocked_at is null;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
comment on function core.notify(bigint, text, jsonb) is
'Queue a notification for a user on each of their preferred channels, in the current transaction; '
'returns how many rows were queued (none for a blocked user or one without channels).';

create or replace function core.wake_outbox_workers() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_notify('bazaar_outbox', '');
    return null;
end
$$;
comment on function core.wake_outbox_workers() is
'Trigger: NOTIFY bazaar_outbox once per statement that queued notifications.';

create or replace function core.check_worker_name(p_worker text) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_worker is null or p_worker !~ '^[A-Za-z0-9._:-]{1,100}$' then
        perform core.raise_invalid('name the worker (1-100 letters, digits, . _ : -)');
    end if;
end
$$;
comment on function core.check_worker_name(text) is
'22023 unless P_WORKER names a worker as its leases do: 1-100 letters, digits, . _ : -.';

create or replace function core.claim_outbox(
    p_worker text, p_batch integer, p_targets text, p_channels text[] default null
)
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
    v_set_aside integer;
begin
    perform core.check_worker_name(p_worker);
    if p_batch is null or p_batch not between 1 and 1000 then
        perform core.raise_invalid('the batch size must be between 1 and 1000');
    end if;
    if cardinality(p_channels) = 0 or exists (
        select from unnest(p_channels) as c (name)
        where c.name is null or c.name not in (select unnest(enum_range(null::core.notification_channel))::text)
    ) then
        perform core.raise_invalid('channels are telegram, email or sms', 'leave them out for every channel');
    end if;
    -- Set aside what failed outbox_max_attempts times (its last lease ran out): it must not hold
    -- back the rest of its target's rows forever.
    -- (released: a late report of the worker that held it is refused, not counted twice)
    with set_aside as (
        update core.notifications as n set failed_at = now(), claimed_by = null, claimed_until = null
        where n.delivered_at is null and n.failed_at is null and n.attempts >= v_max and n.claimed_until < now()
        returning n.channel
    )
    select count(core.count_delivery(a.channel, 'dead')) into v_set_aside from set_aside as a;
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
            and (n.next_attempt_at is null or n.next_attempt_at <= now())
            and (p_channels is null or n.channel::text = any(p_channels))
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
             else c.payload || jsonb_build_object('telegram_message_id', p.telegram_message_id,
                                                  'telegram_photo', p.telegram_photo) end,
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
comment on function core.claim_outbox(text, integer, text, text[]) is
'The outbox claim shared by api.claim_notifications and api.claim_channel_posts: lease up to P_BATCH '
'rows (targets all, users or channels; of P_CHANNELS only, when given) to P_WORKER, oldest first, one '
'at a time per target (a user on one channel, or a channel post), none before its next_attempt_at; '
'after outbox_max_attempts a row is '
'set aside (failed_at). The destination is the user''s contact or the channel''s chat id; a channel '
'post''s payload also carries the message id and photo the channel shows (null before the first '
'delivery). 22023 bad '
'worker, batch or channel.';

create or replace function core.leased_outbox_row(p_id bigint, p_worker text) returns core.notifications
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
    -- Held while no other worker claimed it since: a lease that ran out unclaimed is still the
    -- worker's (its late report is the truth: better than a resend). A report releases the row
    -- (claimed_by null). A delivered row is anyone's to acknowledge again (harmless).
    if v_row.delivered_at is null and v_row.claimed_by is distinct from p_worker then
        raise exception using
            errcode = '55000',
            message = format('notification %s is not leased to %s', p_id, p_worker),
            hint = 'its lease ran out and another worker claimed it, or it was already reported',
            detail = '{"reason": "not_leased"}';
    end if;
    return v_row;
end
$$;
comment on function core.leased_outbox_row(bigint, text) is
'The outbox row P_ID, locked, when P_WORKER holds it (no other worker claimed it since, and it was '
'not reported yet) or it is delivered: P0002 no such row; 55000 not (or no longer) leased to P_WORKER.';

create or replace function core.require_undelivered(p_row core.notifications) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_row.delivered_at is not null or p_row.failed_at is not null then
        raise exception using
            errcode = '55000',
            message = format('notification %s is already %s', p_row.id,
                             case when p_row.delivered_at is not null then 'delivered' else 'set aside' end),
            detail = '{"reason": "already_reported"}';
    end if;
end
$$;
comment on function core.require_undelivered(core.notifications) is
'55000 when the outbox row is already delivered or set aside: nothing is left to report about it.';

create or replace function core.ack_outbox(
    p_id bigint, p_worker text, p_provider_message_id text default null
) returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.notifications := core.leased_outbox_row(p_id, p_worker);
begin
    if v_row.delivered_at is not null then
        return false;  -- acknowledging twice is harmless
    end if;
    if char_length(p_provider_message_id) > 200 then
        perform core.raise_invalid('a provider message id is at most 200 characters');
    end if;
    update core.notifications as n
    set delivered_at = now(), failed_at = null, claimed_by = null, claimed_until = null,
        provider_message_id = p_provider_message_id
    where n.id = p_id and n.created_at = v_row.created_at;
    perform core.count_delivery(v_row.channel, 'delivered', now() - v_row.created_at);
    return true;
end
$$;
comment on function core.ack_outbox(bigint, text, text) is
'Mark an outbox row leased to P_WORKER delivered, with the provider''s message id: true, or false when '
'it was delivered before (twice is harmless). P0002 no such row; 55000 not (or no longer) leased to '
'P_WORKER; 22023 message id over 200 characters.';

create or replace function core.outbox_latency_bounds() returns double precision[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$ select '{1, 2.5, 5, 10, 30, 60, 300, 900, 3600}'::double precision [] $$;
comment on function core.outbox_latency_bounds() is
'The upper bounds (seconds) of the delivery latency histogram''s buckets; a tenth bucket takes the rest.';

create or replace function core.count_delivery(
    p_channel core.notification_channel, p_outcome text, p_latency interval default null
) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_seconds double precision := extract(epoch from p_latency);
    -- the first bucket whose bound is not below the latency (Prometheus's le)
    v_bucket integer := 1 + (select count(*) from unnest(core.outbox_latency_bounds()) as b (le) where b.le < v_seconds);
    v_delivered integer := (p_outcome = 'delivered')::integer;
begin
    insert into core.outbox_delivery_stats as s (
        channel, shard, delivered, retried, dead, latency_seconds_sum, latency_buckets
    )
    values (
        p_channel, pg_backend_pid() % 8, v_delivered, (p_outcome = 'retry')::integer,
        (p_outcome = 'dead')::integer, coalesce(v_seconds, 0) * v_delivered,
        array_fill(0::bigint, array[10])
    )
    on conflict (channel, shard) do update set
        delivered = s.delivered + excluded.delivered,
        retried = s.retried + excluded.retried,
        dead = s.dead + excluded.dead,
        latency_seconds_sum = s.latency_seconds_sum + excluded.latency_seconds_sum;
    if v_delivered = 1 then
        update core.outbox_delivery_stats as s set latency_buckets[v_bucket] = s.latency_buckets[v_bucket] + 1
        where s.channel = p_channel and s.shard = pg_backend_pid() % 8;
    end if;
end
$$;
comment on function core.count_delivery(core.notification_channel, text, interval) is
'Count an outbox report for the delivery metrics: P_OUTCOME delivered (with P_LATENCY, queued to '
'delivered), retry or dead, in this session''s shard of core.outbox_delivery_stats.';
