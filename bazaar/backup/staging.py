"""`bazaar backup stage`: a masked copy of the latest data for application teams (the backup
restored beside the live cluster, bazaar/backup/mask.py on it, passwords of its own). Kept apart
from operations.py: the backup scheduler imports that one, and masking needs the generator's
pools (Faker), which the scheduler's daemon venv does not hold.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from psycopg import sql

from bazaar import config, queries, scram
from bazaar.backup.mask import STAGING_CODE, mask
from bazaar.backup.operations import Backups, Target
from bazaar.backup.pgbackrest import Progress
from bazaar.db import loopback_dsn
from bazaar.stack.users import LOGIN_ROLES, SUPERUSER


def stage(
    backups: Backups,
    to: Path,
    *,
    port: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """A masked copy for application teams: BACKUPS' latest restored into TO, every personal
    value replaced (bazaar/backup/mask.py), fresh passwords for every login role (the copy
    must not open with the live cluster's), vacuumed; left running. Its passwords go to a
    passfile beside TO (0600, the caller's), named in the DSNs returned."""
    started = time.monotonic()
    seed = secrets.randbelow(2**31) if seed is None else seed
    staging_password = secrets.token_urlsafe(12)
    with backups.recorded("stage") as record:
        instance, restored = backups.restore(
            to, Target("latest"), port=port, keep_running=True, progress=progress, record_kind=None
        )
        try:
            with instance.connect() as conn:
                counts = mask(
                    conn,
                    seed,
                    password=staging_password,
                    progress=lambda table, rows, s: log(f"masked {table}: {rows} rows in {s:.1f} s"),
                )
                passwords = {role: secrets.token_urlsafe(24) for role in (SUPERUSER, *LOGIN_ROLES)}
                for role, password in passwords.items():
                    conn.execute(
                        sql.SQL(queries.load("role_allow_login")).format(
                            role=sql.Identifier(role), verifier=sql.Literal(scram.verifier(password))
                        )
                    )
                log("vacuum analyze")
                conn.execute(queries.load("vacuum_analyze"))
        except BaseException:
            instance.stop()
            shutil.rmtree(to, ignore_errors=True)
            raise
        passfile = instance.datadir.parent / f"{instance.datadir.name}.pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"# the staging copy in {to}: its login roles' passwords (libpq passfile)\n")
            f.writelines(f"127.0.0.1:{instance.port}:*:{role}:{pw}\n" for role, pw in passwords.items())
        record.label = restored.label
        record.detail = {"to": str(to), "port": instance.port, "rows_masked": sum(counts.values())}
    return {
        "datadir": str(instance.datadir),
        "port": instance.port,
        "dsn": loopback_dsn(instance.port, "bazaar_app", config.DATABASE, passfile=str(passfile)),
        "admin_dsn": loopback_dsn(instance.port, SUPERUSER, config.DATABASE, passfile=str(passfile)),
        "passfile": str(passfile),
        "sign_in_password": staging_password,
        "sign_in_code": STAGING_CODE,
        "rows_masked": sum(counts.values()),
        "seed": seed,
        "stop": instance.command("stop"),
        "seconds": round(time.monotonic() - started, 1),
    }
