-- bazaar:as-admin
-- Regions and cities with their listing counts (issue 17): region and city filters match exactly,
-- so an application needs the list of places that have listings. Counted from a rollup that a job
-- refreshes every 10 minutes (ops.refresh_place_counts), never by a scan per request.
create table core.place_counts (
    kind core.listing_kind not null,
    region text not null,
    city text not null,
    listings integer not null,
    refreshed_at timestamptz not null default now(),
    constraint pk_place_counts primary key (kind, region, city),
    constraint check_place_counts_listings check (listings > 0),
    constraint check_place_counts_names check (char_length(region) <= 80 and char_length(city) <= 80)
);
alter table core.place_counts owner to bazaar_owner;
comment on table core.place_counts is
'Listings on sale by kind, region and city, as of refreshed_at (ops.refresh_place_counts, every 10 '
'minutes); what api.places reads.';

do $jobs$
begin
    if current_setting('cron.database_name', true) is distinct from current_database() then
        raise notice 'pg_cron is not set up for database %: place counts not scheduled', current_database();
        return;
    end if;
    perform cron.schedule('bazaar-refresh-place-counts', '*/10 * * * *', 'select ops.refresh_place_counts()');
end
$jobs$;
