"""The whole local stack (etcd, three Patroni nodes, HAProxy, PgBouncer under supervisord),
started once per session by `bazaar up` with a BAZAAR_HOME of its own under /tmp and a port
offset where every port is free; `bazaar down` and removal afterwards.

The SQL tree it migrates is the repository's plus one probe function (api.cluster_probe), so the
tests can call an api function as bazaar_app without depending on the marketplace's functions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bazaar import config, drill
from bazaar.stack import layout
from bazaar.stack.cluster import Cluster
from bazaar.stack.host import SYSTEM_ROOT
from bazaar.stack.local import LocalStack
from bazaar.stack.users import SUPERUSER
from tests.harness import SQL_DIR

PROBE_FUNCTION = """\
create or replace function api.cluster_probe()
returns integer
language sql
stable
security definer
set search_path = pg_catalog
as $$ select inet_server_port() $$;

comment on function api.cluster_probe() is 'Test probe: the port of the server that ran it.';
"""


class StackUnderTest:
    def __init__(self, home: Path, offset: int, sql_dir: Path) -> None:
        self.home = home
        self.offset = offset
        self.env = {
            **os.environ,
            "BAZAAR_HOME": str(home),
            "BAZAAR_PORT_OFFSET": str(offset),
            "BAZAAR_SQL_DIR": str(sql_dir),
            # the tests take their backups themselves (tests/cluster/test_backup.py)
            "BAZAAR_BACKUP_SCHEDULE": "full=off diff=off incr=off verify=off",
            # a second repository, standing in for remote storage
            "BAZAAR_BACKUP_REPO2": str(home.parent / "repo2"),
        }
        for name in ("BAZAAR_DSN", "BAZAAR_ADMIN_DSN"):
            self.env.pop(name, None)
        self.local = LocalStack(home, config.Ports(offset))
        self.private_cwd = home.parent / "private"
        self.private_cwd.mkdir(mode=0o700, exist_ok=True)
        self.up_output = ""

    def bazaar(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        # From a directory the postgres user cannot enter, as from a checkout under /root:
        # nothing the stack starts may depend on the caller's working directory.
        return subprocess.run(
            [sys.executable, "-m", "bazaar", *args],
            cwd=self.private_cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def bazaar_json(self, *args: str) -> Any:
        result = self.bazaar(*args, "--json")
        assert result.returncode == 0, result.stderr + result.stdout
        return json.loads(result.stdout)

    def cluster(self) -> Cluster:
        return self.local.cluster()

    def connect(self, dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=5, **kwargs)

    def node_dsn(self, node: str, dbname: str = config.DATABASE) -> str:
        """Straight to one node's PostgreSQL, bypassing HAProxy, as the admin."""
        return self.local.conninfo(self.local.ports.postgres(layout.node_number(node)), SUPERUSER, dbname)

    def drill_dsn(self, via: str) -> str:
        """The drill database as the writer role, through PgBouncer ('pgbouncer') or HAProxy ('rw')."""
        if via == "pgbouncer":
            return self.local.dsn(drill.WRITER_ROLE, drill.DRILL_DATABASE)
        return self.local.conninfo(self.local.ports.rw, drill.WRITER_ROLE, drill.DRILL_DATABASE)


@pytest.fixture(scope="session")
def stack() -> Iterator[StackUnderTest]:
    base = Path(tempfile.mkdtemp(prefix="bazaar-cluster-"))
    base.chmod(0o755)
    sql_dir = base / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    probe = sql_dir / "functions" / "api" / "cluster_probe.sql"
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text(PROBE_FUNCTION)
    s = StackUnderTest(base / "var", config.free_port_offset(), sql_dir)
    up = s.bazaar("up")
    try:
        assert up.returncode == 0, f"bazaar up failed:\n{up.stderr}\n{up.stdout}"
        s.up_output = up.stdout
        drill.prepare(s.local.admin_dsn())
        yield s
    finally:
        s.bazaar("down")
        server = (s.home / "server").resolve()
        shutil.rmtree(base, ignore_errors=True)
        if server.parent == SYSTEM_ROOT:
            shutil.rmtree(server, ignore_errors=True)
