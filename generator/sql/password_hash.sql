-- The bcrypt hash of a password with the given salt (the generator's salt is derived from the
-- seed, so the same seed gives the same hash).
select ext.crypt(%(password)s, %(salt)s)
