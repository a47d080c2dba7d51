"""One PostgreSQL 15 server process: initdb, start, stop, wait until it accepts connections.

Used by the test harness only. As root, every server command runs as the ``postgres`` OS user
through ``setpriv`` (``initdb`` and ``postgres`` refuse to run as root); otherwise as the caller.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bazaar.config import port_in_use
from bazaar.stack.host import SERVER_USER, as_server_user, bindir, make_server_dir, running_as_root


class ServerError(RuntimeError):
    """A server program failed; the message carries the tail of its output or log."""


@dataclass(frozen=True)
class PgNode:
    """A PostgreSQL data directory and the server that runs on it."""

    datadir: Path
    port: int
    log_file: Path
    host: str = "127.0.0.1"

    # -- lifecycle -----------------------------------------------------------------------

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def initdb(
        self,
        *,
        auth: Literal["trust", "scram-sha-256"],
        superuser_password: str | None = None,
        settings: Mapping[str, str | int] | None = None,
    ) -> None:
        """Create the cluster. ``trust`` is for the throwaway test harness only."""
        if auth != "trust" and not superuser_password:
            raise ValueError("a password-authenticated cluster needs a superuser password")
        make_server_dir(self.datadir.parent, 0o711)
        make_server_dir(self.log_file.parent, 0o755)
        argv = [
            str(bindir() / "initdb"),
            "--pgdata",
            str(self.datadir),
            "--username",
            SERVER_USER,
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--auth",
            auth,
            "--data-checksums",
        ]
        pwfile = self.datadir.parent / ".initdb-pwfile"
        try:
            if superuser_password:
                pwfile.write_text(superuser_password + "\n")
                pwfile.chmod(0o600)
                if running_as_root():
                    entry = pwd.getpwnam(SERVER_USER)
                    os.chown(pwfile, entry.pw_uid, entry.pw_gid)
                argv += ["--pwfile", str(pwfile)]
            _run(as_server_user(argv), "initdb")
        finally:
            pwfile.unlink(missing_ok=True)
        self.configure(settings or {})

    def configure(self, settings: Mapping[str, str | int]) -> None:
        """Write our settings to bazaar.conf, included from postgresql.conf (once)."""
        base: dict[str, str | int] = {
            "listen_addresses": self.host,
            "port": self.port,
            # TCP only: socket paths under a deep checkout exceed the 107-byte limit.
            "unix_socket_directories": "",
            "password_encryption": "scram-sha-256",
            "log_line_prefix": "%m [%p] %q%u@%d ",
        }
        base.update(settings)
        lines = [f"{key} = {_conf_value(value)}" for key, value in base.items()]
        conf = self.datadir / "bazaar.conf"
        _write_as_server_user(conf, "# written by bazaar; edits are overwritten\n" + "\n".join(lines) + "\n")
        main = self.datadir / "postgresql.conf"
        if "include 'bazaar.conf'" not in main.read_text():
            with main.open("a") as f:
                f.write("\ninclude 'bazaar.conf'\n")

    def pid(self) -> int | None:
        """The postmaster's PID when it is running, else None."""
        pidfile = self.datadir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        if port_in_use(self.port, self.host):
            raise ServerError(f"cannot start PostgreSQL on {self.host}:{self.port}: the port is in use")
        argv = [
            str(bindir() / "pg_ctl"),
            "--pgdata",
            str(self.datadir),
            "--log",
            str(self.log_file),
            "--wait",
            "--timeout",
            str(int(timeout)),
            "start",
        ]
        try:
            _run(as_server_user(argv), "pg_ctl start")
        except ServerError as exc:
            raise ServerError(f"{exc}\n--- {self.log_file} ---\n{self.log_tail()}") from exc
        self.wait_ready(timeout)

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast", timeout: float = 60.0) -> None:
        if not self.running():
            return
        argv = [
            str(bindir() / "pg_ctl"),
            "--pgdata",
            str(self.datadir),
            "--mode",
            mode,
            "--wait",
            "--timeout",
            str(int(timeout)),
            "stop",
        ]
        _run(as_server_user(argv), "pg_ctl stop")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll pg_isready until the server accepts connections, or fail at the deadline."""
        deadline = time.monotonic() + timeout
        argv = [str(bindir() / "pg_isready"), "--host", self.host, "--port", str(self.port), "--quiet"]
        while True:
            if subprocess.run(argv, check=False).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ServerError(
                    f"PostgreSQL on {self.host}:{self.port} did not accept connections "
                    f"within {timeout:.0f} s\n"
                    f"--- {self.log_file} ---\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def destroy(self) -> None:
        """Stop the server at once and remove its data directory (test harness only)."""
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _conf_value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _write_as_server_user(path: Path, text: str) -> None:
    path.write_text(text)
    if running_as_root():
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o600)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise ServerError(f"{what} failed (exit {result.returncode}): {output}")
