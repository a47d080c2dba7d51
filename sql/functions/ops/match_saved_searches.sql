create or replace function ops.match_saved_searches(p_batch integer default 500) returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_item core.saved_search_queue;
    v_matched integer := 0;
    v_notified integer := 0;
    v_failed integer := 0;
    v_started timestamptz := clock_timestamp();
begin
    -- oldest publications first; a listing another run holds is left to it
    for v_item in
        select q.* from core.saved_search_queue as q
        where q.attempts < 3
        order by q.queued_at, q.listing_id
        limit p_batch
        for update skip locked
    loop
        -- a run ends within a minute, before pg_cron's next one is due; what is left waits for it
        exit when clock_timestamp() > v_started + interval '50 seconds';
        begin
            v_notified := v_notified + core.notify_saved_searches(v_item.listing_id);
            delete from core.saved_search_queue as q where q.listing_id = v_item.listing_id;
            v_matched := v_matched + 1;
        exception when others then
            -- this listing's notifications are rolled back and tried again next run; the others go on
            update core.saved_search_queue as q
            set attempts = q.attempts + 1, last_error = left(sqlstate || ': ' || sqlerrm, 1000)
            where q.listing_id = v_item.listing_id;
            raise warning 'saved-search matching of listing % failed: % %', v_item.listing_id, sqlstate, sqlerrm;
            v_failed := v_failed + 1;
        end;
    end loop;
    return jsonb_build_object('listings', v_matched, 'notified', v_notified, 'failed', v_failed);
end
$$;
comment on function ops.match_saved_searches(integer) is
'Match up to P_BATCH newly published listings (core.saved_search_queue) against every saved search and '
'notify the watchers, each listing on its own: one that fails keeps its error and is tried again (at '
'most three times) without stopping the rest; a run stops after 50 seconds. pg_cron runs it every '
'minute on the leader; returns {listings, notified, failed}.';

-- No SET search_path here: a procedure with a SET clause may not commit. Every name is
-- schema-qualified instead, and it runs with its caller's rights (pg_cron's superuser).
create or replace procedure ops.run_saved_search_matching()
language plpgsql
as $$
declare
    v_started timestamptz := pg_catalog.clock_timestamp();
    v_done jsonb;
begin
    -- one listing per transaction: its queue row is locked only while it is matched, so a
    -- moderator approving it again never waits for a whole run
    loop
        exit when pg_catalog.clock_timestamp() > v_started + interval '50 seconds';
        v_done := ops.match_saved_searches(1);
        commit;
        exit when (v_done ->> 'listings')::integer = 0 and (v_done ->> 'failed')::integer = 0;
    end loop;
end
$$;
comment on procedure ops.run_saved_search_matching() is  -- noqa: LT01
'What pg_cron runs every minute on the leader: ops.match_saved_searches one listing at a time, each '
'in its own transaction, until the queue is drained or 50 seconds have passed. CALL it outside a '
'transaction block.';
