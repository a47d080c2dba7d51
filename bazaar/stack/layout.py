"""Where things are under a stack's server root (``$BAZAAR_HOME/server`` or its /var/lib/bazaar
target), and the names of the nodes.

``conf/`` generated configs (0700, some hold passwords), ``run/`` pid files, the supervisord
socket and the drill hold files, ``log/`` one log per program, ``etcd/`` the DCS data,
``nodeN/data`` the nodes' data directories.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bazaar import config
from bazaar.errors import EXIT_NOT_FOUND, BazaarError

NODES = tuple(f"node{n}" for n in range(1, config.NODES + 1))


def node_number(name: str) -> int:
    """1, 2, 3 for node1, node2, node3; any other name is an error (exit 4)."""
    if name not in NODES:
        raise BazaarError(f"no node {name!r}: the nodes are {', '.join(NODES)}", exit_code=EXIT_NOT_FOUND)
    return NODES.index(name) + 1


@dataclass(frozen=True)
class ServerRoot:
    """The directory the server user owns, holding everything the stack's programs write."""

    path: Path

    @property
    def conf_dir(self) -> Path:
        return self.path / "conf"

    @property
    def run_dir(self) -> Path:
        return self.path / "run"

    @property
    def metrics_dir(self) -> Path:
        """Textfile metrics (``*.prom``) node_exporter serves: the backup scheduler's."""
        return self.run_dir / "metrics"

    @property
    def mail_dir(self) -> Path:
        """What the mail sink received: one .eml file per message."""
        return self.path / "mail"

    @property
    def log_dir(self) -> Path:
        return self.path / "log"

    @property
    def supervisord_conf(self) -> Path:
        return self.conf_dir / "supervisord.conf"

    @property
    def stack_id(self) -> str:
        return hashlib.sha256(str(self.path).encode()).hexdigest()[:12]

    @property
    def socket(self) -> Path:
        """supervisord's socket: in run/, or under /tmp when that path is too long for AF_UNIX."""
        path = self.run_dir / "supervisor.sock"
        return path if len(str(path)) < 100 else Path(f"/tmp/bazaar-{self.stack_id}-supervisor.sock")  # noqa: S108

    def datadir(self, node: str) -> Path:
        return self.path / node / "data"
