-- What the marketplace exporter counts on every scrape must cost an index probe, not a scan
-- (monitoring.marketplace_metrics, docs/adr/0013-metrics-and-alerts.md). The moderation queue has
-- its index (index_listings_on_pending, V0003); the outbox's dead letters are a small part of a
-- big table and get theirs.
create index index_notifications_on_failed on core.notifications (failed_at) where failed_at is not null;
