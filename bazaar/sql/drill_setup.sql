-- The scratch table of the failover drills (bazaar/drill.py), in database {database}, which the
-- writer role {role} may enter, write and read. A psycopg.sql template: both are identifiers.
create table if not exists public.drill_writes (
    run text not null,
    n integer not null,
    written_at timestamptz not null default clock_timestamp(),
    primary key (run, n)
);

grant connect on database {database} to {role};

grant insert, select on public.drill_writes to {role};
