select n from public.drill_writes where run = %(run)s
