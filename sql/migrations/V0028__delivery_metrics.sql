-- Delivery metrics (issue 16): delivered, retried and set-aside notifications per channel, and the
-- time from queued to delivered as a histogram, counted where they happen (the outbox reports) and
-- read by the marketplace exporter. Counting the outbox itself at scrape time would read the whole
-- table. Each reporting session adds to one of 8 rows per channel (its backend pid modulo 8), so
-- workers reporting at once do not queue on one hot row; the exporter sums them.
create table core.outbox_delivery_stats (
    channel core.notification_channel not null,
    shard smallint not null,
    delivered bigint not null default 0,
    retried bigint not null default 0,
    dead bigint not null default 0,
    latency_seconds_sum double precision not null default 0,
    latency_buckets bigint[] not null,
    constraint pk_outbox_delivery_stats primary key (channel, shard),
    constraint check_outbox_delivery_stats_shard check (shard between 0 and 7),
    constraint check_outbox_delivery_stats_buckets check (cardinality(latency_buckets) = 10)
);
comment on table core.outbox_delivery_stats is
'Counters of outbox reports per channel (summed over shards): delivered, retried (a failure that '
'passes), dead (set aside), the sum of queued-to-delivered seconds, and how many deliveries took at '
'most 1, 2.5, 5, 10, 30, 60, 300, 900, 3600 seconds or longer (core.outbox_latency_bounds; each '
'bucket counts its own range, not cumulative).';
