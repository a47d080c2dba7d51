create or replace function ops.purge_sign_in_records() returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_codes integer;
    v_reset_codes integer;
    v_failures integer;
    v_links integer;
begin
    -- a code counts for its number's daily limits for sign_in_code_lockout_window (and is valid
    -- far less long); a failed password for sign_in_failure_window: older rows count for nothing
    delete from core.sign_in_codes as c
    where c.created_at < now() - greatest(core.setting_interval('sign_in_code_lockout_window'),
                                          core.setting_interval('sign_in_code_lifetime'));
    get diagnostics v_codes = row_count;
    -- password reset codes follow the same settings (api.request_password_reset)
    delete from core.password_reset_codes as c
    where c.created_at < now() - greatest(core.setting_interval('sign_in_code_lockout_window'),
                                          core.setting_interval('sign_in_code_lifetime'));
    get diagnostics v_reset_codes = row_count;
    delete from core.sign_in_failures as f
    where f.failed_at < now() - core.setting_interval('sign_in_failure_window');
    get diagnostics v_failures = row_count;
    -- links to connect Telegram count for telegram_link_hourly_limit for an hour
    delete from core.telegram_link_tokens as t
    where t.created_at < now() - greatest(interval '1 hour', core.setting_interval('telegram_link_lifetime'));
    get diagnostics v_links = row_count;
    return jsonb_build_object(
        'codes', v_codes, 'reset_codes', v_reset_codes, 'failures', v_failures, 'telegram_links', v_links
    );
end
$$;
comment on function ops.purge_sign_in_records() is
'Delete sign-in and password reset codes older than their lockout window, failed password sign-ins '
'older than their window and links to connect Telegram older than an hour (and their lifetime): they '
'no longer count for any limit. pg_cron runs it hourly on the leader; returns {codes, reset_codes, '
'failures, telegram_links}.';
