-- Alerts for the operators: Alertmanager's webhook (bazaar/monitoring/receiver.py, as
-- bazaar_worker) hands over what fired or resolved, and every admin gets it in the outbox on the
-- channels they chose, like any other notification (ADR 0013).

create or replace function api.queue_operator_alerts(p_alerts jsonb) returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_alert jsonb;
    v_payload jsonb;
    v_status text;
    v_name text;
    v_runbook text;
    v_admins bigint[];
    v_count integer := 0;
begin
    if p_alerts is null or jsonb_typeof(p_alerts) <> 'array' then
        perform core.raise_invalid('alerts must be a JSON array');
    end if;
    if jsonb_array_length(p_alerts) not between 1 and 50 then
        perform core.raise_invalid(format('between 1 and 50 alerts at a time, not %s', jsonb_array_length(p_alerts)));
    end if;
    -- the admins once per call, not once per alert (index_users_on_admins)
    v_admins := array(select u.id from core.users as u where u.role = 'admin' and u.blocked_at is null);
    for v_alert in select a.value from jsonb_array_elements(p_alerts) as a (value) loop
        if jsonb_typeof(v_alert) <> 'object' or jsonb_typeof(v_alert -> 'labels') is distinct from 'object' then
            perform core.raise_invalid('each alert must be an object with labels');
        end if;
        v_status := core.json_string(v_alert -> 'status', 'status');
        if v_status is null or v_status not in ('firing', 'resolved') then
            perform core.raise_invalid('status must be firing or resolved');
        end if;
        v_name := core.json_string(v_alert -> 'labels' -> 'alertname', 'alertname');
        if v_name is null or v_name !~ '^[A-Za-z][A-Za-z0-9_]{0,99}$' then
            perform core.raise_invalid('alertname must be 1-100 letters, digits or _');
        end if;
        -- a link a person will follow: only into our runbooks
        v_runbook := core.json_string(v_alert -> 'annotations' -> 'runbook_url', 'runbook_url');
        if v_runbook !~ '^docs/runbooks/[a-z0-9_.#/-]{1,150}$' then
            perform core.raise_invalid('runbook_url must point into docs/runbooks/');
        end if;
        -- what a person reads: the alert, its severity and place, the summary and the runbook
        v_payload := jsonb_build_object(
            'status', v_status,
            'alertname', v_name,
            'severity', left(core.json_string(v_alert -> 'labels' -> 'severity', 'severity'), 20),
            'node', left(core.json_string(v_alert -> 'labels' -> 'node', 'node'), 40),
            'repo', left(core.json_string(v_alert -> 'labels' -> 'repo', 'repo'), 10),
            'summary', left(core.json_string(v_alert -> 'annotations' -> 'summary', 'summary'), 500),
            'runbook_url', v_runbook,
            'starts_at', left(core.json_string(v_alert -> 'startsAt', 'startsAt'), 40)
        );
        v_count := v_count + coalesce((
            select sum(core.notify(a.id, 'operator_alert', jsonb_strip_nulls(v_payload)))
            from unnest(v_admins) as a (id)
        ), 0);
    end loop;
    return v_count;
end
$$;
comment on function api.queue_operator_alerts(jsonb) is
'Alertmanager''s webhook receiver (role bazaar_worker) queues P_ALERTS (its "alerts" array: 1-50 '
'objects with status firing or resolved, labels.alertname, severity, node, repo, annotations.summary '
'and runbook_url, which must point into docs/runbooks/) as operator_alert notifications to every '
'admin who is not blocked, on their channels; returns how many rows were queued. 22023 a malformed '
'alert or a runbook_url elsewhere; 42501 for any role but bazaar_worker.';
revoke execute on function api.queue_operator_alerts(jsonb) from bazaar_app;
grant execute on function api.queue_operator_alerts(jsonb) to bazaar_worker;
