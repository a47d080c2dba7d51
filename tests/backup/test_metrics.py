"""The backups' textfile metrics (bazaar/backup/metrics.py): what the alerts read, from lists of
backups as `Backups.backups()` gives them; no stack needed."""

from __future__ import annotations

import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bazaar.backup import metrics

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def backup(repo: int, kind: str, hours_ago: float, error: bool = False) -> dict[str, Any]:
    return {
        "repo": repo,
        "type": kind,
        "stopped_at": NOW - timedelta(hours=hours_ago),
        "seconds": 4,
        "repository_bytes": 1000,
        "error": error,
    }


def samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_the_newest_good_backup_of_each_type_and_zero_for_none() -> None:
    backups = [
        backup(1, "full", 30),
        backup(1, "full", 5),
        backup(1, "incr", 1, error=True),
        backup(2, "incr", 2),
    ]
    got = samples(metrics.exposition(backups, {1: NOW - timedelta(days=1)}, [1, 2], NOW))
    full_1 = 'bazaar_backup_last_success_timestamp_seconds{repo="1",type="full"}'
    assert got[full_1] == (NOW - timedelta(hours=5)).timestamp()
    # a failed backup is no backup; a repository never backed up shows 0, so the age alert fires
    assert got['bazaar_backup_last_success_timestamp_seconds{repo="1",type="incr"}'] == 0
    assert got['bazaar_backup_last_success_timestamp_seconds{repo="2",type="full"}'] == 0
    assert (
        got['bazaar_backup_last_verified_timestamp_seconds{repo="1"}']
        == (NOW - timedelta(days=1)).timestamp()
    )
    assert got['bazaar_backup_last_verified_timestamp_seconds{repo="2"}'] == 0
    assert got["bazaar_backup_metrics_written_timestamp_seconds"] == NOW.timestamp()
    assert got['bazaar_backup_last_repository_bytes{repo="2",type="incr"}'] == 1000


def test_prometheus_accepts_the_text_and_the_file_is_replaced_whole(tmp_path: Path) -> None:
    text = metrics.exposition([backup(1, "full", 1)], {}, [1], NOW)
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    metrics.write(tmp_path, "old\n")
    metrics.write(tmp_path, text)
    written = tmp_path / metrics.FILE_NAME
    assert written.read_text() == text
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [metrics.FILE_NAME]  # no temporary file left
