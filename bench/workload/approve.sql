-- A moderator approves the next pending listing (each once: run with a transaction count, not a time).
select api.approve_listing((select m.token from bench.moderator as m),
                           (select p.id from bench.pending as p where p.n = (select nextval('bench.pending_order'))));
