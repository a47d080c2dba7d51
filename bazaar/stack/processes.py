"""Processes: running a program to completion, waiting for a condition, and reading PIDs.

One ``run`` for every subprocess the stack (and the test harness) starts and waits for, one
``poll`` for every wait with a deadline.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import psycopg

from bazaar.errors import BazaarError

T = TypeVar("T")


def run(
    argv: Sequence[str],
    what: str,
    *,
    check: bool = True,
    timeout: float = 600,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ARGV to its end with its output captured.

    With CHECK, a non-zero exit is a BazaarError naming WHAT, with the tail of the output.
    """
    result = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
        timeout=timeout,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise BazaarError(f"{what} failed (exit {result.returncode}): {output[-2000:]}")
    return result


def poll(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.2,
    fatal: type[Exception] | None = None,
) -> T:
    """Call CHECK until it returns something other than None (or False); fail at the deadline.

    Errors of CHECK count as "not yet", except those of class FATAL, which end the wait.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result is not None and result is not False:
                return result
        except (OSError, psycopg.Error, BazaarError, ValueError) as exc:
            if fatal is not None and isinstance(exc, fatal):
                raise
            last_error = exc
        if time.monotonic() > deadline:
            reason = f" (last error: {last_error})" if last_error else ""
            raise BazaarError(f"timed out after {timeout:.0f} s waiting for {what}{reason}")
        time.sleep(interval)


def pid_alive(pidfile: Path) -> int | None:
    """The PID on the first line of PIDFILE when that process exists, else None."""
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def postmaster_pid(datadir: Path) -> int | None:
    """The PID of the PostgreSQL running on DATADIR, else None."""
    return pid_alive(datadir / "postmaster.pid")


def children(pid: int) -> list[int]:
    """PIDs whose parent is PID (PostgreSQL's backends and auxiliary processes)."""
    result = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may contain spaces, so split after the last ')'
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            result.append(int(entry.name))
    return result


def dead_children(pid: int) -> list[str]:
    """PID's children that exited and were not reaped (zombies), each as "PID exited with status N"
    or "PID killed by signal N" (/proc/PID/stat's exit_code, Linux 3.5+)."""
    found = []
    for child in children(pid):
        try:
            fields = (Path("/proc") / str(child) / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] != "Z" or len(fields) < 50:
            continue
        status = int(fields[49])
        how = (
            f"exited with status {status >> 8}" if status & 0x7F == 0 else f"killed by signal {status & 0x7F}"
        )
        found.append(f"{child} {how}")
    return found
