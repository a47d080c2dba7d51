"""The backups as Prometheus metrics: a textfile (``run/metrics/bazaar_backup.prom``) that
node_exporter's textfile collector serves, rewritten by the backup scheduler every tick and by
`bazaar up` after a first backup. The alerts BazaarBackupTooOld, BazaarRestoreDrillTooOld and
BazaarBackupMetricsStale (monitoring/prometheus/rules/bazaar.yml) read it.

A textfile rather than an exporter querying ops.backup_runs: the repository is the truth about
backups (pgBackRest's info, also when the database is down), the scheduler already reads it every
minute, and bazaar_monitor needs no grant on ops (docs/adr/0013-metrics-and-alerts.md).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

FILE_NAME = "bazaar_backup.prom"
TYPES = ("full", "diff", "incr")

_HELP = {
    "bazaar_backup_last_success_timestamp_seconds": "when the newest good backup of the type ended (0: none)",
    "bazaar_backup_last_duration_seconds": "how long the newest good backup of this type took",
    "bazaar_backup_last_repository_bytes": "what the newest good backup of the type added to the repository",
    "bazaar_backup_last_verified_timestamp_seconds": "when a backup was last restored and checked (0: never)",
    "bazaar_backup_metrics_written_timestamp_seconds": "when the backup scheduler last wrote these metrics",
}


def exposition(
    backups: Iterable[Mapping[str, Any]],
    verified: Mapping[int, datetime],
    repositories: Iterable[int],
    now: datetime,
) -> str:
    """The metrics in Prometheus's text format, from BACKUPS as `Backups.backups()` lists them,
    the last good verification of each repository, and the repositories configured."""
    backups = list(backups)
    samples: dict[str, list[str]] = {name: [] for name in _HELP}
    for repo in repositories:
        for kind in TYPES:
            good = [b for b in backups if b["repo"] == repo and b["type"] == kind and not b["error"]]
            newest = max(good, key=lambda b: b["stopped_at"], default=None)
            labels = f'{{repo="{repo}",type="{kind}"}}'
            stopped = newest["stopped_at"].timestamp() if newest else 0
            samples["bazaar_backup_last_success_timestamp_seconds"].append(f"{labels} {stopped:.0f}")
            if newest:
                samples["bazaar_backup_last_duration_seconds"].append(f"{labels} {newest['seconds']}")
                added = newest["repository_bytes"]
                samples["bazaar_backup_last_repository_bytes"].append(f"{labels} {added}")
        at = verified.get(repo)
        samples["bazaar_backup_last_verified_timestamp_seconds"].append(
            f'{{repo="{repo}"}} {at.timestamp() if at else 0:.0f}'
        )
    samples["bazaar_backup_metrics_written_timestamp_seconds"].append(f" {now.timestamp():.0f}")
    lines = []
    for name, values in samples.items():
        lines += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge"]
        lines += [f"{name}{value}" for value in values]
    return "\n".join(lines) + "\n"


def write(directory: Path, text: str) -> None:
    """Replace DIRECTORY/bazaar_backup.prom atomically: node_exporter never reads half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".bazaar_backup.", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, directory / FILE_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
