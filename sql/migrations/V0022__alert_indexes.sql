-- Two reads of the monitoring that must stay probes at any scale (docs/adr/0013-metrics-and-alerts.md):
-- the admins an operator alert goes to, among a million users, and the oldest notification
-- waiting on each channel, which a backlog makes large exactly when it matters.
create index index_users_on_admins on core.users (id) where role = 'admin' and blocked_at is null;
create index index_notifications_on_pending_channel on core.notifications (channel, created_at)
where delivered_at is null and failed_at is null;
