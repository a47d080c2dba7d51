-- Time partitions (ADR 0007): monthly partitions made ahead, old months dropped, and the daily job
-- that does both. Migrations made the first partitions; these are the functions' current bodies.

create or replace function ops.create_monthly_partitions(
    p_table regclass, p_months_back integer, p_months_ahead integer
) returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_schema text;
    v_name text;
    v_key text;
    v_default regclass;
    v_partition text;
    v_from timestamptz;
    v_to timestamptz;
    v_waiting bigint;
    v_created integer := 0;
begin
    select n.nspname, c.relname into v_schema, v_name
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where c.oid = p_table;
    v_key := (regexp_match(pg_get_partkeydef(p_table), '^RANGE \((\w+)\)$'))[1];
    select i.inhrelid::regclass into v_default
    from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
    where i.inhparent = p_table and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    for i in -p_months_back .. p_months_ahead loop
        -- months are UTC months whatever the session's time zone, so every run draws the same bounds
        v_from := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i)) at time zone 'UTC';
        v_to := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i + 1)) at time zone 'UTC';
        v_partition := format('%s_%s', v_name, to_char(v_from at time zone 'UTC', 'YYYY_MM'));
        continue when to_regclass(format('%I.%I', v_schema, v_partition)) is not null;
        v_waiting := 0;
        if v_default is not null then
            execute format('select count(*) from %s where %I >= $1 and %I < $2', v_default, v_key, v_key)
            into v_waiting using v_from, v_to;
        end if;
        if v_waiting = 0 then
            execute format('create table %I.%I partition of %s for values from (%L) to (%L)',
                           v_schema, v_partition, p_table, v_from, v_to);
            -- whoever runs this (a migration, the generator, pg_cron as the admin), the partition
            -- belongs to the owner of everything, or the next ALTER TABLE of the parent fails
            execute format('alter table %I.%I owner to bazaar_owner', v_schema, v_partition);
        else
            -- rows of this month wait in the default partition (maintenance ran late): move them
            -- into the new month, then attach it. Moving is not a change of data, so the table's
            -- own triggers (the audit log's append-only rule) are bypassed for it: superuser only.
            execute format('create table %I.%I (like %s including defaults including constraints)',
                           v_schema, v_partition, p_table);
            execute format('alter table %I.%I owner to bazaar_owner', v_schema, v_partition);
            set local session_replication_role = replica;
            execute format('with moved as (delete from %s where %I >= $1 and %I < $2 returning *) '
                           'insert into %I.%I select * from moved', v_default, v_key, v_key, v_schema, v_partition)
            using v_from, v_to;
            set local session_replication_role = origin;
            execute format('alter table %s attach partition %I.%I for values from (%L) to (%L)',
                           p_table, v_schema, v_partition, v_from, v_to);
        end if;
        v_created := v_created + 1;
    end loop;
    return v_created;
end
$$;
comment on function ops.create_monthly_partitions(regclass, integer, integer) is
'Create the missing monthly (UTC) partitions of a table partitioned by a timestamptz range, owned by '
'bazaar_owner whoever calls it, moving rows of those months out of the default partition; returns how '
'many were created.';

create or replace function ops.drop_old_partitions(
    p_table regclass, p_keep interval, p_unless text default null
) returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_partition record;
    v_held boolean;
    v_dropped integer := 0;
    v_cutoff timestamptz := date_trunc('month', (now() - p_keep) at time zone 'UTC') at time zone 'UTC';
begin
    -- monthly partitions whose whole range lies before the cutoff; the default partition stays
    for v_partition in
        select c.oid::regclass as name,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz as upper_bound
        from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = p_table and pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    loop
        if v_partition.upper_bound <= v_cutoff then
            -- a month with a row still needed (P_UNLESS: a notification not delivered yet) stays
            v_held := false;
            if p_unless is not null then
                execute format('select exists (select from %s where %s)', v_partition.name, p_unless) into v_held;
            end if;
            if v_held then
                raise warning 'kept %: it holds rows that are still needed (%)', v_partition.name, p_unless;
                continue;
            end if;
            execute format('drop table %s', v_partition.name);
            v_dropped := v_dropped + 1;
        end if;
    end loop;
    return v_dropped;
end
$$;
comment on function ops.drop_old_partitions(regclass, interval, text) is
'Drop the monthly partitions of a table that hold only rows older than P_KEEP (whole months), but '
'not one with a row matching P_UNLESS (a condition on the table''s columns, from the code, never from '
'a caller: a warning says it was kept); returns how many were dropped.';

create or replace function ops.maintain_partitions() returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_table regclass;
    v_retention record;
    v_result jsonb := jsonb_build_object('created', 0, 'dropped', 0, 'errors', '[]'::jsonb);
begin
    -- each table on its own: one that fails (and says why) must not stop the others
    foreach v_table in array array[
        'core.audit_log', 'core.chat_messages', 'core.contact_clicks', 'core.notifications'
    ]::regclass[] loop
        begin
            v_result := jsonb_set(v_result, '{created}',
                                  to_jsonb((v_result ->> 'created')::integer
                                           + ops.create_monthly_partitions(v_table, 0, 3)));
        exception when others then
            raise warning 'partition maintenance of % failed: %', v_table, sqlerrm;
            v_result := jsonb_set(v_result, '{errors}', (v_result -> 'errors')
                                  || jsonb_build_object('table', v_table::text, 'error', sqlerrm));
        end;
    end loop;
    -- retention (ADR 0021): whole months past each table's setting
    for v_retention in
        select * from (values
            ('core.contact_clicks'::regclass, 'click_retention', null::text),
            ('core.audit_log', 'audit_retention', null),
            ('core.chat_messages', 'chat_retention', null),
            ('core.notifications', 'outbox_retention', 'delivered_at is null and failed_at is null')
        ) as r (tab, setting, unless)
    loop
        begin
            v_result := jsonb_set(v_result, '{dropped}', to_jsonb((v_result ->> 'dropped')::integer
                + ops.drop_old_partitions(v_retention.tab, core.setting_interval(v_retention.setting),
                                          v_retention.unless)));
        exception when others then
            raise warning 'retention of % failed: %', v_retention.tab, sqlerrm;
            v_result := jsonb_set(v_result, '{errors}', (v_result -> 'errors')
                                  || jsonb_build_object('table', v_retention.tab::text, 'error', sqlerrm));
        end;
    end loop;
    return v_result;
end
$$;
comment on function ops.maintain_partitions() is
'Create the next three months of every time-partitioned table (moving rows that waited in a default '
'partition) and drop the months past each table''s retention: click_retention, audit_retention, '
'chat_retention, outbox_retention (a month with a notification still waiting stays); each table on its '
'own, failures reported in the result and as warnings. pg_cron runs it daily on the leader.';
