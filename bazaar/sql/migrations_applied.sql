select script, kind, version, checksum, applied_at
from ops.schema_migrations
order by kind desc, version, script
