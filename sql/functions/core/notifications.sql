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
