"""The venv the daemons run from (Patroni): shared by every stack on the machine (docs/adr/0004)."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import sys
from pathlib import Path

from bazaar import config
from bazaar.stack.host import SYSTEM_ROOT, running_as_root
from bazaar.stack.processes import run

# What the daemon venv holds: Patroni, and what the copy of bazaar the backup scheduler runs
# imports (bazaar/stack/code.py); versions come from requirements.lock (a constraints file).
DAEMON_REQUIREMENTS = ("patroni[etcd3]", "psycopg[binary]", "click", "prometheus-client", "httpx", "aiosmtpd")


def daemon_bin() -> Path:
    """The bin/ directory whose ``patroni`` the postgres user runs, building it when needed.

    As root, the checkout's .venv may sit where postgres cannot read (a clone under /root), so
    the daemons get their own venv under /var/lib/bazaar, built from /usr/bin/python3 with the
    versions of requirements.lock, shared by every stack on the machine and rebuilt when the
    lock changes. Not as root, the server runs as the caller, who can run this very venv.
    """
    if not running_as_root():
        return Path(sys.executable).parent
    lock = config.project_root() / "requirements.lock"
    digest = hashlib.sha256(lock.read_bytes() + "\n".join(DAEMON_REQUIREMENTS).encode()).hexdigest()[:12]
    venv = SYSTEM_ROOT / f"daemon-venv-{digest}"
    stamp = venv / ".bazaar-complete"
    if stamp.exists():
        return venv / "bin"
    SYSTEM_ROOT.mkdir(mode=0o755, exist_ok=True)
    with (SYSTEM_ROOT / ".daemon-venv.lock").open("w") as lockfile:
        fcntl.flock(lockfile, fcntl.LOCK_EX)  # two stacks starting at once build it once
        if not stamp.exists():
            shutil.rmtree(venv, ignore_errors=True)
            run(["/usr/bin/python3", "-m", "venv", str(venv)], "creating the daemon venv")
            run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-c",
                    str(lock),
                    *DAEMON_REQUIREMENTS,
                ],
                "installing Patroni into the daemon venv",
            )
            venv.chmod(0o755)
            stamp.write_text(digest + "\n")
    return venv / "bin"
