"""The machine the stack runs on: the ``postgres`` OS user and what it owns, /var/lib/bazaar, and
where PostgreSQL's server programs are.

As root, every server program runs as the ``postgres`` OS user (``postgres``, ``initdb`` and
``pgbouncer`` refuse to run as root, and no daemon of ours should); otherwise as the caller.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from bazaar.stack.processes import run

SERVER_USER = "postgres"
# The machine-wide directory of the stack: the shared daemon venv, and the server roots of stacks
# whose BAZAAR_HOME the server user cannot reach (docs/adr/0002, 0004).
SYSTEM_ROOT = Path("/var/lib/bazaar")
DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")


def bindir() -> Path:
    """Where PostgreSQL 15's server programs are (Debian's place unless BAZAAR_PG_BINDIR says)."""
    return Path(os.environ.get("BAZAAR_PG_BINDIR", DEFAULT_BINDIR))


def running_as_root() -> bool:
    return os.geteuid() == 0


def server_ids() -> tuple[int, int]:
    """(uid, gid) the server programs run as: postgres's as root, else the caller's own."""
    if not running_as_root():
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def server_home() -> str:
    """The home directory of the user the server programs run as."""
    return pwd.getpwuid(server_ids()[0]).pw_dir


def as_server_user(argv: list[str]) -> list[str]:
    """Wrap a command so it runs as the postgres OS user when we are root.

    ``setpriv`` replaces itself with the command, so a PID we record is the server's own.
    """
    if not running_as_root():
        return argv
    return [
        "setpriv",
        "--reuid",
        SERVER_USER,
        "--regid",
        SERVER_USER,
        "--init-groups",
        "env",
        f"HOME={server_home()}",
        *argv,
    ]


def pg_ctl(
    datadir: Path, action: str, *, log: Path | None = None, mode: str | None = None, timeout: float = 60
) -> list[str]:
    """The command for pg_ctl ACTION (start, stop) on DATADIR, as the server user, waiting up to
    TIMEOUT seconds; LOG receives the server's output (start), MODE says how to stop."""
    argv = [str(bindir() / "pg_ctl"), "--pgdata", str(datadir)]
    if log is not None:
        argv += ["--log", str(log)]
    if mode is not None:
        argv += ["--mode", mode]
    return as_server_user([*argv, "--wait", "--timeout", str(int(timeout)), action])


def make_server_dir(path: Path, mode: int = 0o700) -> Path:
    """Create a directory the server user owns (chown'ed to postgres when we are root)."""
    path.mkdir(parents=True, exist_ok=True)
    if running_as_root():
        os.chown(path, *server_ids())
    path.chmod(mode)
    return path


def server_user_can_use(path: Path, *, write: bool = True) -> bool:
    """True when the server user can reach directory PATH (and write in it, unless write=False).

    Checked as that user, since every parent directory must be traversable by it.
    """
    if not running_as_root():
        return os.access(path, (os.W_OK if write else 0) | os.X_OK)
    tests = ["test", "-d", str(path), "-a", "-x", str(path)]
    if write:
        tests += ["-a", "-w", str(path)]
    return run(as_server_user(tests), f"checking {path} as {SERVER_USER}", check=False).returncode == 0


def write_server_file(path: Path, text: str, mode: int = 0o600) -> bool:
    """Write TEXT to PATH, owned by the server user; True when the content changed.

    The file is replaced whole (written beside it, then renamed), so no reader sees half of it.
    """
    try:
        changed = path.read_text() != text
    except FileNotFoundError:
        changed = True
    if changed:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.chown(tmp, *server_ids())
        tmp.chmod(mode)
        tmp.replace(path)
    return changed
