-- Retention of the audit log, the listing chat and the outbox (issue 17, docs/adr/0021-retention.md):
-- whole monthly partitions older than these are dropped by the daily partition maintenance, as
-- contact clicks already were (click_retention). An outbox month that still holds a notification
-- waiting for delivery is kept until it does not.
insert into core.settings (key, value, description, value_type, min_value, max_value) values
(
    'audit_retention', '"3 years"',
    'How long staff actions stay in the audit log (whole months older are dropped).',
    'interval', '1 year', '20 years'
),
(
    'chat_retention', '"1 year"',
    'How long listing chat messages are kept (whole months older are dropped).',
    'interval', '1 month', '10 years'
),
(
    'outbox_retention', '"90 days"',
    'How long delivered and set-aside notifications are kept (whole months older are dropped; a month '
    'with one still waiting stays).',
    'interval', '7 days', '5 years'
);
