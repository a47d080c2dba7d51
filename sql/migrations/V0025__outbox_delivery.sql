-- Delivery of the outbox (issue 16, docs/adr/0018-notification-delivery.md): what a delivery
-- worker records around each external call, and when a row that failed for a passing reason may
-- be tried again.
insert into core.settings (key, value, description, value_type, min_value, max_value) values
(
    'outbox_retry_base', '"10 seconds"',
    'The wait before a delivery that failed for a passing reason is tried again; doubled at each '
    'further attempt, up to outbox_retry_max.',
    'interval', '1 second', '1 hour'
),
(
    'outbox_retry_max', '"1 hour"', 'The longest wait between two delivery attempts.',
    'interval', '1 minute', '1 day'
);

alter table core.notifications
add column sending_at timestamptz,
add column next_attempt_at timestamptz,
add column last_error text,
add column provider_message_id text,
add constraint check_notifications_last_error check (char_length(last_error) <= 500) not valid,
add constraint check_notifications_provider_message_id check (
    char_length(provider_message_id) <= 200
) not valid;
comment on column core.notifications.sending_at is
'Set by the worker right before the external call: a row leased again with it set may have been '
'delivered already (the only window for a duplicate).';
comment on column core.notifications.next_attempt_at is
'Not claimed before this moment: the backoff after a failure that may pass.';
comment on column core.notifications.last_error is
'What the last failed attempt said (one line, at most 500 characters, never the message itself).';
comment on column core.notifications.provider_message_id is
'The provider''s id of the delivered message (Telegram message id, SMTP Message-ID, gateway id).';
