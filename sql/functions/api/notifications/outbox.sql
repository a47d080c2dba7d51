create or replace function api.claim_notifications(p_worker text, p_batch integer default 100)
returns table (
    notification_id bigint, user_id bigint, channel text, kind text, payload jsonb, destination text,
    attempts integer, claimed_until timestamptz
)
language plpgsql
volatile
security definer
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
    -- back the rest of its user's notifications forever.
    update core.notifications as n set failed_at = now()
    where n.delivered_at is null and n.failed_at is null and n.attempts >= v_max and n.claimed_until < now();
    -- Claimable: not delivered or failed, not leased (or the lease ran out), and the oldest
    -- pending one of its user on its channel, so those go out one at a time, in order. SKIP
    -- LOCKED keeps two workers off the same rows.
    return query
    with claimable as (
        select n.id, n.created_at
        from core.notifications as n
        where n.delivered_at is null and n.failed_at is null
            and (n.claimed_until is null or n.claimed_until < now())
            and not exists (
                select from core.notifications as e
                where e.user_id = n.user_id and e.channel = n.channel
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
    select c.id, c.user_id, c.channel::text, c.kind, c.payload,
        case c.channel when 'email' then u.email when 'sms' then u.phone else u.telegram_chat_id::text end,
        c.attempts, c.claimed_until
    from claimed as c join core.users as u on u.id = c.user_id
    order by c.id;
end
$$;
comment on function api.claim_notifications(text, integer) is
'Delivery workers (role bazaar_worker) take up to P_BATCH notifications, leased to P_WORKER for '
'outbox_lease; an unacknowledged one is handed out again after its lease, up to outbox_max_attempts, then '
'set aside as failed. One user''s notifications on one channel come one at a time, in order. LISTEN '
'bazaar_outbox to be woken when new ones arrive. 22023 bad worker or batch.';
revoke execute on function api.claim_notifications(text, integer) from bazaar_app;
grant execute on function api.claim_notifications(text, integer) to bazaar_worker;

create or replace function api.ack_notification(p_id bigint, p_worker text) returns void
language plpgsql
volatile
security definer
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
        return;  -- acknowledging twice is harmless
    end if;
    if v_row.claimed_by is distinct from p_worker or v_row.claimed_until < now() then
        raise exception using
            errcode = '55000',
            message = format('notification %s is not leased to %s', p_id, p_worker),
            hint = 'its lease ran out and it may have gone to another worker: claim again';
    end if;
    update core.notifications as n set delivered_at = now()
    where n.id = p_id and n.created_at = v_row.created_at;
end
$$;
comment on function api.ack_notification(bigint, text) is
'A worker confirms it delivered a notification it holds. Twice is harmless. P0002 no such '
'notification; 55000 the lease is not (or no longer) this worker''s.';
revoke execute on function api.ack_notification(bigint, text) from bazaar_app;
grant execute on function api.ack_notification(bigint, text) to bazaar_worker;

-- the result gained a column: a function's result type cannot be replaced in place
drop function if exists api.outbox_stats();
create function api.outbox_stats()
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
