"""supervisord: starting it, asking it (supervisorctl), applying changed configs to its programs.

One root supervisord per stack starts every program of PROGRAMS as the server user and restarts
what dies (docs/adr/0004-stack-processes-and-secrets.md).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from bazaar.errors import BazaarError
from bazaar.stack.layout import ServerRoot
from bazaar.stack.processes import pid_alive, poll, run
from bazaar.stack.programs import PROGRAMS


@dataclass(frozen=True)
class Supervisor:
    """The supervisord of the stack under ROOT."""

    root: ServerRoot

    def pid(self) -> int | None:
        return pid_alive(self.root.run_dir / "supervisord.pid")

    def running(self) -> bool:
        return self.pid() is not None

    def ctl(self, *args: str, check: bool = True) -> str:
        result = run(
            ["supervisorctl", "-c", str(self.root.supervisord_conf), *args],
            f"supervisorctl {' '.join(args)}",
            check=False,
            timeout=120,
        )
        # supervisorctl exits non-zero when a program is not RUNNING (status) — not our failure.
        if check and result.returncode != 0 and "ERROR" in result.stdout + result.stderr:
            raise BazaarError(f"supervisorctl {' '.join(args)}: {(result.stdout + result.stderr).strip()}")
        return result.stdout

    def launch(self) -> None:
        """Start supervisord, which starts every program; wait until it answers."""
        with contextlib.suppress(FileNotFoundError):
            self.root.socket.unlink()
        run(["supervisord", "-c", str(self.root.supervisord_conf)], "starting supervisord")
        poll(lambda: self.root.socket.exists() and self.processes(), 30, "supervisord to answer")

    def apply(self, changed: set[str]) -> None:
        """Apply the configs of CHANGED (names in conf/) to the running programs, then start what is
        stopped: supervisord re-reads its own, a program reading a changed file gets SIGHUP (Patroni,
        PgBouncer) or is restarted (HAProxy)."""
        if "supervisord.conf" in changed:
            self.ctl("update")
        touched = [p for p in PROGRAMS if p.reads() & changed]
        for program in touched:
            if program.reload == "hup":
                self.ctl("signal", "HUP", program.name, check=False)
        for program in touched:
            if program.reload == "restart":
                self.ctl("restart", program.name)
        self.ctl("start", "all")

    def processes(self) -> list[dict[str, Any]]:
        """Each supervised program: name, state, pid, uptime (empty when supervisord is down)."""
        if not self.running():
            return []
        rows = []
        for line in self.ctl("status", check=False).splitlines():
            parts = line.split(None, 2)
            if len(parts) < 2:
                continue
            pid: int | None = None
            uptime = None
            rest = parts[2] if len(parts) > 2 else ""
            if rest.startswith("pid "):
                pid_text, _, uptime_text = rest.partition(",")
                pid = int(pid_text.split()[1])
                uptime = uptime_text.replace("uptime", "").strip()
            rows.append({"name": parts[0], "state": parts[1], "pid": pid, "uptime": uptime, "info": rest})
        return rows

    def program_pid(self, name: str) -> int | None:
        for row in self.processes():
            if row["name"] == name:
                return row["pid"] if isinstance(row["pid"], int) and row["pid"] > 0 else None
        return None

    def stop(self, *names: str) -> None:
        """Stop the programs NAMES (those not running are skipped)."""
        if names:
            self.ctl("stop", *names, check=False)

    def shutdown(self) -> None:
        """Stop supervisord (and whatever of its programs still runs); wait until it has exited."""
        self.ctl("shutdown", check=False)
        poll(lambda: self.pid() is None, 60, "supervisord to exit")
