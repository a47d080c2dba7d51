"""Where pgBackRest's pieces are for one stack: its config, repositories, stanza and the command
line each node's archive and restore commands use.

Environment (read by `bazaar up`, which writes it into pgbackrest.conf):
  BAZAAR_BACKUP_REPO    the first repository's directory (default: SERVER_ROOT/backup/repo1);
                        another disk than the data directories' in production
  BAZAAR_BACKUP_REPO2   a second repository (another disk, a mount standing in for remote
                        storage): WAL goes to both, backups to each on its own schedule
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bazaar.stack.layout import NODES, ServerRoot

STANZA = "bazaar"
PGBACKREST = "/usr/bin/pgbackrest"
# pgBackRest reaches PostgreSQL by unix socket only; a short path every stack shares (each node's
# socket file is named by its port), made by `bazaar up` when missing.
SOCKET_DIR = Path("/var/run/postgresql")
# Measured on two cores at scale 0.1 (bench/backup.py, docs/adr/0012-backups.md): zstd level 1
# backs up as fast as lz4 level 1 (5.06 s vs 4.63 s, within the noise of other runs) on less CPU
# (2.06 vs 2.21 s) into a repository 37 % smaller (160 MB vs 256 MB); level 3 saves 3 % more for
# 35 % more CPU, gzip takes 2.9 times as long.
COMPRESS_TYPE = "zst"
COMPRESS_LEVEL = 1
RETENTION_FULL = 2  # full backups kept; the differentials and WAL they need go with them
RETENTION_DIFF = 7


def conf_path_name() -> str:
    return "pgbackrest.conf"


def conf_path(root: ServerRoot) -> Path:
    return root.conf_dir / conf_path_name()


def repositories(root: ServerRoot) -> list[Path]:
    """The repositories' directories, repo1 first."""
    first = os.environ.get("BAZAAR_BACKUP_REPO")
    second = os.environ.get("BAZAAR_BACKUP_REPO2")
    repos = [Path(first).resolve() if first else root.path / "backup" / "repo1"]
    return [*repos, Path(second).resolve()] if second else repos


def configured_repositories(root: ServerRoot) -> list[Path]:
    """The repositories the stack's rendered pgbackrest.conf names (what `bazaar up` was given)."""
    text = conf_path(root).read_text() if conf_path(root).exists() else ""
    return [Path(line.split("=", 1)[1]) for line in text.splitlines() if re.match(r"repo\d+-path=", line)]


def node_command(root: ServerRoot, node: str) -> str:
    """pgbackrest as NODE's PostgreSQL runs it (archive-push, archive-get, replica restore): this
    node's data directory as pg1, and a spool and lock directory of its own (two replicas fetching
    WAL at once must not share a queue)."""
    node_dir = root.path / node
    return (
        f"{PGBACKREST} --config={conf_path(root)} --stanza={STANZA} --pg1-path={root.datadir(node)} "
        f"--spool-path={node_dir / 'backup-spool'} --lock-path={node_dir / 'backup-lock'}"
    )


def conf_sections(root: ServerRoot, ports_of: dict[str, int], passphrase: str) -> dict[str, str]:
    """The placeholders of backup/pgbackrest.conf: the repositories and the nodes."""
    repo_lines = []
    for n, path in enumerate(repositories(root), start=1):
        repo_lines += [
            f"repo{n}-path={path}",
            f"repo{n}-cipher-type=aes-256-cbc",
            f"repo{n}-cipher-pass={passphrase}",
            f"repo{n}-retention-full={RETENTION_FULL}",
            f"repo{n}-retention-diff={RETENTION_DIFF}",
            # small files of a backup are stored together: fewer files, faster on slow storage
            f"repo{n}-bundle=y",
        ]
    node_lines = []
    for n, node in enumerate(NODES, start=1):
        node_lines += [
            f"pg{n}-path={root.datadir(node)}",
            f"pg{n}-port={ports_of[node]}",
            f"pg{n}-socket-path={SOCKET_DIR}",
        ]
    return {
        "repositories": "\n".join(repo_lines),
        "nodes": "\n".join(node_lines),
        "compress_type": COMPRESS_TYPE,
        "compress_level": str(COMPRESS_LEVEL),
    }
