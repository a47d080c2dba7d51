"""Running pgBackRest for a stack: always as the server user, with the stack's config and stanza,
its failures turned into one-line errors with the documented exit codes, and the per-file lines
it prints at `detail` level turned into progress (bytes copied, percent done).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bazaar.backup import settings
from bazaar.errors import (
    EXIT_BAD_ARGUMENT,
    EXIT_FAILURE,
    EXIT_NOT_ALLOWED,
    EXIT_NOT_FOUND,
    EXIT_WRONG_STATE,
    BazaarError,
)
from bazaar.stack.host import as_server_user
from bazaar.stack.layout import ServerRoot

# "P01 DETAIL: backup file /…/base/5/16390 (8MB, 41.27%) checksum …", the same for restore
_FILE_LINE = re.compile(r"(?:backup|restore) file .*\((?P<size>[\d.]+)(?P<unit>[KMGT]?B), (?P<pct>[\d.]+)%\)")
_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
# "ERROR: [064]: raised from local-2 protocol: unable to write '…'" and, indented below it, the
# retries, the last of which says why: "[FileWriteError] on retry after 15000ms: …: [28] No space…"
_ERROR = re.compile(r"ERROR: \[(?P<code>\d+)\]: (?P<message>.*)(?P<more>(?:\n[ \t]+\S.*)*)")
_RETRY = re.compile(r"^\[\w+\] on retry after \d+ms: ")

# pgBackRest's error codes by what they mean to an operator (seen with pgBackRest 2.45)
_NOT_FOUND = {55, 73, 103}  # a repository or stanza that is not there, a missing path
_NOT_ALLOWED = {95}  # the repository cannot be decrypted: a wrong passphrase
_WRONG_STATE = {28, 38, 40, 44, 50, 82}  # mismatches, PostgreSQL running, locks, a stop file
_BAD_ARGUMENT = {31, 32, 37, 75}  # invalid or missing options, no backup before the target

_NO_STANZA = {1, 3}  # `info` status codes: missing stanza path, missing stanza data
_OTHER = 99  # `info` status code of any other failure (an undecryptable repository)

Progress = Callable[[int, float], None]  # bytes copied so far, percent done


@dataclass(frozen=True)
class PgBackRest:
    root: ServerRoot
    repo: int | None = None  # one repository of the config (None: pgBackRest's choice, or all)
    repo_path: Path | None = None  # a copy of the first repository (an offsite one) instead

    def base(self) -> list[str]:
        """pgbackrest with the stack's config, stanza and repository."""
        argv = [
            settings.PGBACKREST,
            f"--config={settings.conf_path(self.root)}",
            f"--stanza={settings.STANZA}",
        ]
        if self.repo_path is not None:
            argv += ["--repo=1", f"--repo1-path={self.repo_path}"]
        elif self.repo is not None:
            argv.append(f"--repo={self.repo}")
        return argv

    def argv(self, command: str, *options: str) -> list[str]:
        return as_server_user([*self.base(), *options, command])

    def run(
        self, command: str, *options: str, progress: Progress | None = None, timeout: float | None = None
    ) -> str:
        """Run COMMAND; its standard output. A failure raises BazaarError with pgBackRest's message."""
        if progress is None:
            result = subprocess.run(
                self.argv(command, *options),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
            if result.returncode != 0:
                raise _failure(command, result.returncode, result.stderr + result.stdout)
            return result.stdout
        # at detail level every copied file is a line with its size and the percent done so far
        argv = self.argv(command, "--log-level-console=detail", *options)
        copied = 0
        lines: list[str] = []
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                found = _FILE_LINE.search(line)
                if found:
                    copied += int(float(found["size"]) * _UNITS[found["unit"]])
                    progress(copied, float(found["pct"]))
            code = proc.wait(timeout=timeout)
        output = "".join(lines)
        if code != 0:
            raise _failure(command, code, output)
        return output

    def info(self) -> dict[str, Any]:
        """The stanza as `pgbackrest info --output=json` describes it (backups, WAL archive, status)."""
        # strict=False: pgBackRest 2.45 copies undecodable bytes into its messages unescaped
        stanzas = json.loads(self.run("info", "--output=json"), strict=False)
        info = dict(stanzas[0]) if stanzas else {}
        status = info.get("status", {})
        where = self.repo_path or "the repository"
        if status.get("code") in _NO_STANZA:
            raise BazaarError(
                f"no stanza {settings.STANZA!r} in {where}: {status.get('message')}",
                exit_code=EXIT_NOT_FOUND,
                hint="`bazaar up` creates it; is this path a pgBackRest repository?",
            )
        if status.get("code") == _OTHER:
            reasons = [r.get("status", {}).get("message", "") for r in info.get("repo", [])]
            reason = next((r for r in reasons if r), status.get("message", ""))
            if "FormatError" in reason:  # both copies of the info file decrypt to garbage
                raise BazaarError(
                    f"{where} cannot be decrypted: the passphrase is not the one it was made with",
                    exit_code=EXIT_NOT_ALLOWED,
                    detail=reason.splitlines()[0][:300],
                )
            raise BazaarError(f"{where} cannot be read: {reason.splitlines()[0][:300]}", detail=reason[:2000])
        return info


def _failure(command: str, code: int, output: str) -> BazaarError:
    found = _ERROR.search(output)
    number = int(found["code"]) if found else code
    if found:
        more = [line.strip() for line in found["more"].splitlines() if line.strip()]
        message = _RETRY.sub("", more[-1]) if more and _RETRY.match(more[-1]) else found["message"].strip()
    else:
        message = (output.strip().splitlines() or ["no output"])[-1]
    if number in _NOT_FOUND:
        exit_code = EXIT_NOT_FOUND
    elif number in _NOT_ALLOWED:
        exit_code = EXIT_NOT_ALLOWED
    elif number in _WRONG_STATE:
        exit_code = EXIT_WRONG_STATE
    elif number in _BAD_ARGUMENT:
        exit_code = EXIT_BAD_ARGUMENT
    else:
        exit_code = EXIT_FAILURE
    hint = (
        "free space where it writes, or choose another disk" if "No space left on device" in message else None
    )
    return BazaarError(
        f"pgbackrest {command} failed: {message}",
        exit_code=exit_code,
        detail=f"pgBackRest error {number}",
        hint=hint,
    )
