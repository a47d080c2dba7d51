create or replace function api.claim_notifications(
    p_worker text, p_batch integer default 100, p_channels text[] default null
)
returns table (
    notification_id bigint, user_id bigint, channel text, kind text, payload jsonb, destination text,
    attempts integer, claimed_until timestamptz, channel_post_id bigint
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return query select * from core.claim_outbox(p_worker, p_batch, 'users', p_channels);
end
$$;
comment on function api.claim_notifications(text, integer, text[]) is
'Delivery workers (role bazaar_worker) take up to P_BATCH notifications to users, leased to P_WORKER '
'for outbox_lease (Telegram channel posts go to api.claim_channel_posts, whose workers report message '
'ids). An unacknowledged row is handed out again after its lease, up to outbox_max_attempts, then set '
'aside as failed. One user''s rows on one channel come one at a time, in order; P_CHANNELS (telegram, '
'email, sms) limits the claim to the channels a worker can deliver. LISTEN bazaar_outbox to be woken '
'when new ones arrive. 22023 bad worker, batch or channel; 42501 for any role but bazaar_worker.';
revoke execute on function api.claim_notifications(text, integer, text[]) from bazaar_app;
grant execute on function api.claim_notifications(text, integer, text[]) to bazaar_worker;

create or replace function api.claim_channel_posts(p_worker text, p_batch integer default 100)
returns table (
    notification_id bigint, user_id bigint, channel text, kind text, payload jsonb, destination text,
    attempts integer, claimed_until timestamptz, channel_post_id bigint
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return query select * from core.claim_outbox(p_worker, p_batch, 'channels');
end
$$;
comment on function api.claim_channel_posts(text, integer) is
'The same claim as api.claim_notifications, for a worker that only posts to Telegram channels: channel '
'posts and edits only. Report each with api.channel_post_delivered. 22023 bad worker or batch; 42501 for '
'any role but bazaar_worker.';
revoke execute on function api.claim_channel_posts(text, integer) from bazaar_app;
grant execute on function api.claim_channel_posts(text, integer) to bazaar_worker;

create or replace function api.ack_notification(
    p_id bigint, p_worker text, p_provider_message_id text default null
) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if exists (select from core.notifications as n where n.id = p_id and n.channel_post_id is not null) then
        raise exception using
            errcode = '55000',
            message = format('notification %s is a channel post', p_id),
            hint = 'report it with api.channel_post_delivered and the channel message id',
            detail = '{"reason": "channel_post"}';
    end if;
    perform core.ack_outbox(p_id, p_worker, p_provider_message_id);
end
$$;
comment on function api.ack_notification(bigint, text, text) is
'A worker confirms it delivered a notification it holds, with the provider''s message id when there '
'is one. Twice is harmless. P0002 no such notification; 55000 the lease is not (or no longer) this '
'worker''s, or it is a channel post (api.channel_post_delivered records those); 22023 message id over '
'200 characters.';
revoke execute on function api.ack_notification(bigint, text, text) from bazaar_app;
grant execute on function api.ack_notification(bigint, text, text) to bazaar_worker;

create or replace function api.sending_notification(p_id bigint, p_worker text) returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.notifications := core.leased_outbox_row(p_id, p_worker);
begin
    perform core.require_undelivered(v_row);
    -- a full lease for the call: a send begun near the end of the lease must not overlap another claim
    update core.notifications as n
    set sending_at = now(), claimed_until = now() + core.setting_interval('outbox_lease')
    where n.id = p_id and n.created_at = v_row.created_at;
    return v_row.sending_at is not null;
end
$$;
comment on function api.sending_notification(bigint, text) is
'A worker records, right before the external call, that it is sending a notification it holds. '
'The lease starts afresh (outbox_lease) for the call. True when an earlier attempt got this far '
'without reporting back: that attempt may have delivered '
'it, so this one may be a duplicate (the worker counts them). P0002 no such notification; 55000 not '
'leased to this worker, or already delivered or set aside.';
revoke execute on function api.sending_notification(bigint, text) from bazaar_app;
grant execute on function api.sending_notification(bigint, text) to bazaar_worker;

create or replace function api.fail_notification(
    p_id bigint,
    p_worker text,
    p_error text,
    p_permanent boolean default false,
    p_retry_after_seconds integer default null
) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.notifications := core.leased_outbox_row(p_id, p_worker);
    v_error text := left(regexp_replace(btrim(coalesce(p_error, '')), '[[:space:]]+', ' ', 'g'), 500);
    v_wait interval;
begin
    if v_error = '' then
        perform core.raise_invalid('say what failed');
    end if;
    if char_length(p_error) > 2000 then
        perform core.raise_invalid('say what failed in at most 2000 characters');
    end if;
    if p_retry_after_seconds not between 0 and 86400 then
        perform core.raise_invalid('retry_after_seconds must be between 0 and 86400 (a day)');
    end if;
    perform core.require_undelivered(v_row);
    if coalesce(p_permanent, false) or v_row.attempts >= core.setting_int('outbox_max_attempts') then
        update core.notifications as n
        set failed_at = now(), last_error = v_error, claimed_by = null, claimed_until = null, sending_at = null
        where n.id = p_id and n.created_at = v_row.created_at;
        perform core.count_delivery(v_row.channel, 'dead');
        return 'dead';
    end if;
    -- the provider's own wait (Telegram's retry_after) when it is the longer one
    v_wait := greatest(
        make_interval(secs => coalesce(p_retry_after_seconds, 0)),
        -- the exponent is capped: 2^20 times any base is past outbox_retry_max, and 2^40 would
        -- overflow an interval
        least(core.setting_interval('outbox_retry_base') * power(2, least(greatest(v_row.attempts - 1, 0), 20)),
              core.setting_interval('outbox_retry_max'))
    );
    update core.notifications as n
    set next_attempt_at = now() + v_wait, last_error = v_error, claimed_by = null, claimed_until = null,
        sending_at = null
    where n.id = p_id and n.created_at = v_row.created_at;
    perform core.count_delivery(v_row.channel, 'retry');
    return 'retry';
end
$$;
comment on function api.fail_notification(bigint, text, text, boolean, integer) is
'A worker reports that delivering a notification it holds failed, with the reason (one line, cut to '
'500 characters; never the message). A permanent failure (the bot is blocked, the address does not '
'exist), or the outbox_max_attempts-th attempt, sets it aside at once and returns dead. Otherwise it '
'is tried again after outbox_retry_base doubled per attempt (at most outbox_retry_max), or '
'P_RETRY_AFTER_SECONDS when longer, and returns retry; the user''s later notifications on that channel '
'wait behind it. P0002 '
'no such notification; 55000 not leased to this worker, or already delivered or set aside; 22023 no '
'reason or one over 2000 characters, or retry_after_seconds not between 0 and 86400.';
revoke execute on function api.fail_notification(bigint, text, text, boolean, integer) from bazaar_app;
grant execute on function api.fail_notification(bigint, text, text, boolean, integer) to bazaar_worker;

create or replace function api.dead_letters(p_limit integer default 50, p_before_id bigint default null)
returns table (
    notification_id bigint, user_id bigint, channel text, kind text, attempts integer,
    last_error text, created_at timestamptz, failed_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform core.check_limit(p_limit, 500);
    return query
    select n.id, n.user_id, n.channel::text, n.kind, n.attempts, n.last_error, n.created_at, n.failed_at
    from core.notifications as n
    where n.failed_at is not null and n.delivered_at is null and (p_before_id is null or n.id < p_before_id)
    order by n.id desc
    limit p_limit;
end
$$;
comment on function api.dead_letters(integer, bigint) is
'Notifications set aside as failed, newest first, in pages of P_LIMIT (1-500) before id P_BEFORE_ID: '
'their channel, kind, attempts and last error (not their content). 22023 bad limit.';
revoke execute on function api.dead_letters(integer, bigint) from bazaar_app;
grant execute on function api.dead_letters(integer, bigint) to bazaar_worker;

create or replace function api.dead_letter(p_id bigint)
returns table (
    notification_id bigint, user_id bigint, channel text, kind text, payload jsonb, attempts integer,
    last_error text, created_at timestamptz, failed_at timestamptz, request_id text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    -- one-time codes (sign-in, password reset) are not for an operator's eyes
    return query
    select n.id, n.user_id, n.channel::text, n.kind, n.payload - 'code', n.attempts, n.last_error,
        n.created_at, n.failed_at, n.request_id
    from core.notifications as n
    where n.id = p_id and n.failed_at is not null and n.delivered_at is null;
    if not found then
        raise exception using
            errcode = 'P0002', message = format('no notification %s set aside as failed', p_id);
    end if;
end
$$;
comment on function api.dead_letter(bigint) is
'One notification set aside as failed, with its content (one-time codes removed) and request id. '
'P0002 no such dead letter.';
revoke execute on function api.dead_letter(bigint) from bazaar_app;
grant execute on function api.dead_letter(bigint) to bazaar_worker;

create or replace function api.retry_dead_letter(p_id bigint) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update core.notifications as n
    set failed_at = null, attempts = 0, next_attempt_at = null, claimed_by = null, claimed_until = null
    where n.id = p_id and n.failed_at is not null and n.delivered_at is null;
    if not found then
        raise exception using
            errcode = 'P0002', message = format('no notification %s set aside as failed', p_id);
    end if;
end
$$;
comment on function api.retry_dead_letter(bigint) is
'Put a notification set aside as failed back in the outbox, as if new (its last error is kept until '
'the next attempt). It goes out in its place: the user''s later notifications on that channel wait for '
'it. P0002 no such dead letter.';
revoke execute on function api.retry_dead_letter(bigint) from bazaar_app;
grant execute on function api.retry_dead_letter(bigint) to bazaar_worker;

create or replace function api.outbox_stats()
returns table (pending bigint, leased bigint, delivered bigint, failed bigint, oldest_pending timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select
        count(*) filter (where n.delivered_at is null and n.failed_at is null
                         and (n.claimed_until is null or n.claimed_until < now())),
        count(*) filter (where n.delivered_at is null and n.failed_at is null and n.claimed_until >= now()),
        count(*) filter (where n.delivered_at is not null),
        count(*) filter (where n.failed_at is not null),
        min(n.created_at) filter (where n.delivered_at is null and n.failed_at is null)
    from core.notifications as n
$$;
comment on function api.outbox_stats() is
'How many notifications wait, are leased, were delivered, were set aside as failed; the oldest waiting.';
revoke execute on function api.outbox_stats() from bazaar_app;
grant execute on function api.outbox_stats() to bazaar_worker;
