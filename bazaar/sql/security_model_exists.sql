-- Whether V0001 made the roles the security model speaks of.
select to_regrole('bazaar_app') is not null
