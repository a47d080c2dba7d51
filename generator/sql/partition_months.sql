-- Months back from now to the month the history starts in (the loader adds one: partitions are
-- created that far back). NOTE: the year part counts back to start, the month part to as_of: the
-- sum is right when both fall in the same month of the year, as they mostly do with 12 months.
select (
    extract(year from age(
        date_trunc('month', now() at time zone 'UTC'),
        date_trunc('month', to_timestamp(%(start)s) at time zone 'UTC')
    )) * 12
    + extract(month from age(
        date_trunc('month', now() at time zone 'UTC'),
        date_trunc('month', to_timestamp(%(as_of)s) at time zone 'UTC')
    ))
)::integer
