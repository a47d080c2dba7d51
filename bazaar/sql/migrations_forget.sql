delete from ops.schema_migrations
where kind = 'repeatable' and script = %(script)s
