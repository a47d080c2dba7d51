insert into public.drill_writes (run, n) values (%(run)s, %(n)s)
