"""The bazaar package as the stack's own programs run it (the backup scheduler): a copy in the
server root, which the postgres user can read wherever the checkout is (a clone under /root
cannot be), run by the daemon venv's Python (daemon_venv.py). `bazaar up` refreshes the copy when
the package changed; the digest file in conf/ tells supervisor.apply which programs to restart.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import bazaar
from bazaar.stack.host import running_as_root, server_ids
from bazaar.stack.layout import ServerRoot

DIGEST_FILE = "bazaar-code.sha256"  # in conf/: a program that lists it is restarted when it changes


def _package_dir() -> Path:
    return Path(bazaar.__file__).parent


def _files(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def digest() -> str:
    """The package's files, names and contents, as one SHA-256."""
    package = _package_dir()
    h = hashlib.sha256()
    for path in _files(package):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest() + "\n"


def lib_dir(root: ServerRoot) -> Path:
    """What PYTHONPATH names for the stack's programs: it holds bazaar/."""
    return root.path / "lib"


def install(root: ServerRoot, text: str) -> None:
    """Copy the package into ROOT/lib/bazaar unless the copy there has digest TEXT already."""
    lib = lib_dir(root)
    stamp = lib / DIGEST_FILE
    if stamp.exists() and stamp.read_text() == text:
        return
    fresh = root.path / "lib.new"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(_package_dir(), fresh / "bazaar", ignore=shutil.ignore_patterns("__pycache__"))
    (fresh / DIGEST_FILE).write_text(text)
    for dirpath, dirnames, filenames in os.walk(fresh):
        for name in (dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)):
            if running_as_root():
                os.chown(name, *server_ids())
            os.chmod(name, 0o700 if os.path.isdir(name) else 0o600)
    shutil.rmtree(lib, ignore_errors=True)
    fresh.rename(lib)
