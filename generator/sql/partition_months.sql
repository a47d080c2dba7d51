-- Whole months from the month the history starts in to this month (the loader adds one:
-- partitions are created that far back).
select (extract(year from m.span) * 12 + extract(month from m.span))::integer
from (
    select age(
        date_trunc('month', now() at time zone 'UTC'),
        date_trunc('month', to_timestamp(%(start)s) at time zone 'UTC')
    ) as span
) as m
