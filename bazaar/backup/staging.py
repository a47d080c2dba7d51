"""`bazaar backup stage`: a masked copy of the latest data for application teams (the backup
restored beside the live cluster, bazaar/backup/mask.py on it, passwords of its own). Kept apart
from operations.py: the backup scheduler imports that one, and masking needs the generator's
pools (Faker), which the scheduler's daemon venv does not hold.
"""

from __future__ import annotations

import contextlib
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
from bazaar.errors import BazaarError
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
    must not open with the live cluster's), vacuumed; left running. The login roles' passwords
    go to TO.pgpass (0600, the caller's: the one to hand over); the superuser's to
    TO.admin.pgpass, for the operator alone — a superuser of the copy runs as the same OS user as
    the live nodes and could reach them (COPY … TO PROGRAM, the server's files)."""
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
            with contextlib.suppress(BazaarError):
                instance.stop()
            shutil.rmtree(to, ignore_errors=True)
            raise
        base = instance.datadir.parent / instance.datadir.name
        logins = {role: pw for role, pw in passwords.items() if role != SUPERUSER}
        passfile = _passfile(Path(f"{base}.pgpass"), instance.port, logins, "its login roles")
        admin_passfile = _passfile(
            Path(f"{base}.admin.pgpass"),
            instance.port,
            {SUPERUSER: passwords[SUPERUSER]},
            "the operator's superuser",
        )
        record.label = restored.label
        record.detail = {"to": str(to), "port": instance.port, "rows_masked": sum(counts.values())}
    return {
        "datadir": str(instance.datadir),
        "port": instance.port,
        "dsn": loopback_dsn(instance.port, "bazaar_app", config.DATABASE, passfile=str(passfile)),
        "passfile": str(passfile),
        "admin_dsn": loopback_dsn(instance.port, SUPERUSER, config.DATABASE, passfile=str(admin_passfile)),
        "sign_in_password": staging_password,
        "sign_in_code": STAGING_CODE,
        "rows_masked": sum(counts.values()),
        "seed": seed,
        "stop": instance.command("stop"),
        "seconds": round(time.monotonic() - started, 1),
    }


def _passfile(path: Path, port: int, passwords: dict[str, str], whose: str) -> Path:
    """A libpq passfile (0600, the caller's) with PASSWORDS for the copy on PORT."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"# a staging copy: {whose} (libpq passfile)\n")
        f.writelines(f"127.0.0.1:{port}:*:{role}:{pw}\n" for role, pw in passwords.items())
    return path
