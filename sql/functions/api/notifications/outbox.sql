create or replace function api.claim_notifications(p_worker text, p_batch integer default 100)
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
    return query select * from core.claim_outbox(p_worker, p_batch, 'users');
end
$$;
comment on function api.claim_notifications(text, integer) is
'Delivery workers (role bazaar_worker) take up to P_BATCH notifications to users, leased to P_WORKER '
'for outbox_lease (Telegram channel posts go to api.claim_channel_posts, whose workers report message '
'ids). An unacknowledged row is handed out again after its lease, up to outbox_max_attempts, then set '
'aside as failed. One user''s rows on one channel come one at a time, in order. LISTEN bazaar_outbox to '
'be woken when new ones arrive. 22023 bad worker or batch; 42501 for any role but bazaar_worker.';
revoke execute on function api.claim_notifications(text, integer) from bazaar_app;
grant execute on function api.claim_notifications(text, integer) to bazaar_worker;

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

create or replace function api.ack_notification(p_id bigint, p_worker text) returns void
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
            hint = 'report it with api.channel_post_delivered and the channel message id';
    end if;
    perform core.ack_outbox(p_id, p_worker);
end
$$;
comment on function api.ack_notification(bigint, text) is
'A worker confirms it delivered a notification it holds. Twice is harmless. P0002 no such '
'notification; 55000 the lease is not (or no longer) this worker''s, or it is a channel post '
'(api.channel_post_delivered records those).';
revoke execute on function api.ack_notification(bigint, text) from bazaar_app;
grant execute on function api.ack_notification(bigint, text) to bazaar_worker;

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
