-- Whether a role may log in, and its password verifier (the stack compares it with PgBouncer's).
select rolcanlogin, rolpassword from pg_authid where rolname = %(role)s
