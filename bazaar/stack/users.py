"""The users of the local stack: PostgreSQL roles that log in, and the users of its machinery.

Every one gets a generated password in ``$BAZAAR_HOME/pgpass`` (docs/adr/0002, 0004).
"""

from __future__ import annotations

SUPERUSER = "postgres"
# Login roles (the migration creates them NOLOGIN; the stack grants LOGIN with a SCRAM verifier
# after migrating). They log in through PgBouncer, whose auth_file holds the same verifiers.
MONITOR = "bazaar_monitor"  # pg_monitor: postgres_exporter's role
WORKER = "bazaar_worker"  # the outbox's role: delivery workers, the alert receiver
LOGIN_ROLES = ("bazaar_app", WORKER, "bazaar_analyst", MONITOR)
REPLICATION_USER = "replicator"  # PostgreSQL roles Patroni creates: replication and pg_rewind
REWIND_USER = "rewinder"
REST_USER = "patroni_api"  # Patroni REST API basic-auth user (POST endpoints); not a PostgreSQL role
PGBOUNCER_ADMIN = "bazaar_pgbouncer"  # PgBouncer console user (PAUSE / RESUME); not a PostgreSQL role
# the key of the backup repositories' encryption passphrase among the secrets; not a PostgreSQL role
BACKUP_KEY = "pgbackrest"
SERVICE_USERS = (REPLICATION_USER, REWIND_USER, REST_USER, PGBOUNCER_ADMIN, BACKUP_KEY)
