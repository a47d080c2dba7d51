"""Backups of the real stack with real pgBackRest: what `bazaar up` sets up, backups under writes,
point-in-time restores beside the live cluster, verification (and a corrupted repository copy
caught), backups and restores across a failover's timeline, the scheduler, and the whole cluster
taken back to a moment of its past. Each test leaves the cluster healthy for the next.

Rows are written to the drill database (bazaar_drill.public.drill_writes) under a run id of the
test's own; a restored copy is asked for them.
"""

from __future__ import annotations

import contextlib
import json
import pwd
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bazaar import drill
from bazaar.backup.instance import RestoredInstance
from bazaar.backup.operations import Backups
from bazaar.backup.pgbackrest import PgBackRest
from bazaar.backup.schedule import Policy
from bazaar.errors import EXIT_BAD_ARGUMENT, EXIT_NOT_ALLOWED, EXIT_NOT_FOUND, BazaarError
from bazaar.stack.host import make_server_dir, write_server_file
from bazaar.stack.layout import NODES, ServerRoot
from bazaar.stack.processes import poll
from tests.cluster.conftest import StackUnderTest

HEALTHY_TIMEOUT_S = 180


def repo2_of(stack: StackUnderTest) -> Path:
    return Path(stack.env["BAZAAR_BACKUP_REPO2"])


def backups_of(stack: StackUnderTest) -> Backups:
    return Backups.of(stack.local)


def drill_admin(stack: StackUnderTest) -> psycopg.Connection[Any]:
    return stack.connect(stack.local.admin_dsn(drill.DRILL_DATABASE))


def write(stack: StackUnderTest, run: str, n: int) -> None:
    with drill_admin(stack) as conn:
        conn.execute("insert into public.drill_writes (run, n) values (%s, %s)", [run, n])


def server_now(stack: StackUnderTest) -> str:
    with drill_admin(stack) as conn:
        row = conn.execute("select clock_timestamp()").fetchone()
    assert row is not None
    return str(row[0].isoformat())


def current_lsn(stack: StackUnderTest) -> str:
    with drill_admin(stack) as conn:
        row = conn.execute("select pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def timeline(stack: StackUnderTest) -> int:
    with drill_admin(stack) as conn:
        row = conn.execute(
            "select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"
        ).fetchone()
    assert row is not None
    return int(row[0])


def archive_now(stack: StackUnderTest) -> None:
    """Close the current WAL segment and wait until the repository has it."""
    with drill_admin(stack) as conn:
        row = conn.execute("select pg_walfile_name(pg_switch_wal())").fetchone()
        assert row is not None
        segment = row[0]

        def archived() -> bool:
            found = conn.execute("select last_archived_wal from pg_stat_archiver").fetchone()
            return bool(found and found[0] and found[0][:24] >= segment)

        poll(archived, 120, f"WAL segment {segment} in the repository")


def restore_dir(stack: StackUnderTest, name: str) -> Path:
    parent = stack.home.parent / "restores"
    parent.mkdir(mode=0o755, exist_ok=True)
    return parent / f"{name}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def restored(stack: StackUnderTest, name: str, *target: str) -> Iterator[dict[str, Any]]:
    """`bazaar backup restore --start` with TARGET options; the copy is stopped and removed after."""
    to = restore_dir(stack, name)
    result = stack.bazaar_json("backup", "restore", "--to", str(to), "--start", *target)
    try:
        yield result
    finally:
        RestoredInstance(to, 0, stack.local.pgpass).stop()
        shutil.rmtree(to, ignore_errors=True)


def rows_in(dsn: str, run: str) -> set[int]:
    return drill.stored(psycopg.conninfo.make_conninfo(dsn, dbname=drill.DRILL_DATABASE), run)


def wait_healthy(stack: StackUnderTest) -> None:
    stack.cluster().wait_healthy(HEALTHY_TIMEOUT_S)


@pytest.fixture(scope="module")
def generated(stack: StackUnderTest) -> dict[str, Any]:
    """Demo data (scale 0.01) in the marketplace, and a full backup of it: what the tests of this
    module back up and restore (tests/cluster/test_generate_cluster.py replaces it later)."""
    result = stack.bazaar_json("generate", "--scale", "0.01", "--seed", "5")
    assert result["generated"] is True
    backup = stack.bazaar_json("backup", "run", "--type", "full")
    rows = {step["step"]: step["rows"] for step in result["steps"]}
    return {"listings": rows["listings"], "users": rows["users"], "backup": backup["label"]}


# -- what `bazaar up` set up ----------------------------------------------------------------------


def test_up_took_a_full_backup_and_wal_reaches_the_repository(stack: StackUnderTest) -> None:
    info = stack.bazaar_json("backup", "info")
    assert info["status"] == "ok"
    assert info["cipher"] == "aes-256-cbc"
    assert info["backups"] >= 1 and info["wal_max"]
    assert info["repositories"] == [
        str(backups_of(stack).root.path / "backup" / "repo1"),
        str(repo2_of(stack)),
    ]
    assert {b["repo"] for b in stack.bazaar_json("backup", "list") if b["type"] == "full"} == {1, 2}
    listed = stack.bazaar_json("backup", "list")
    assert listed[0]["type"] == "full" and listed[0]["repository_bytes"] > 0
    runs = stack.bazaar_json("backup", "runs")
    assert any(r["kind"] == "backup" and r["succeeded"] and r["label"] == listed[0]["label"] for r in runs)
    check = stack.bazaar("backup", "check")
    assert check.returncode == 0, check.stderr
    # the scheduler runs (as postgres, from its own copy of the package) with the tests' policy
    # (the processes only: exit 6 would mean some other part of the stack is unhealthy right now)
    processes = {p["name"]: p for p in json.loads(stack.bazaar("status", "--json").stdout)["processes"]}
    assert processes["backup-scheduler"]["state"] == "running"
    pid = processes["backup-scheduler"]["pid"]
    uid = next(
        line.split()[1]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("Uid:")
    )
    assert int(uid) == pwd.getpwnam("postgres").pw_uid
    log = stack.cluster().root.log_dir / "backup-scheduler.log"
    poll(lambda: "backup scheduler started: full=off" in log.read_text(), 30, "the scheduler's first line")


def test_a_backup_under_writes_restores_every_acknowledged_row(
    stack: StackUnderTest, generated: dict[str, Any]
) -> None:
    marker = f"Marker{secrets.token_hex(8)}"
    with drill.Writer(stack.drill_dsn("pgbouncer")) as writer:
        writer.wait_for_acks_after(0, 10, 30)
        write(stack, marker, 1)  # a run name no one else writes: looked for in the repository below
        backup = stack.bazaar_json("backup", "run", "--type", "incr")
        writer.wait_for_acks_after(writer.attempts[-1].finished, 5, 30)
    acknowledged = writer.acknowledged()
    archive_now(stack)
    assert backup["type"] == "incr" and backup["based_on"]
    with restored(stack, "under-writes") as copy:
        assert acknowledged <= rows_in(copy["dsn"], writer.run)
        assert rows_in(copy["dsn"], marker) == {1}
        with psycopg.connect(copy["dsn"], autocommit=True) as conn:
            assert conn.execute("select count(*) from core.listings").fetchone() == (generated["listings"],)
            assert conn.execute("select * from ops.integrity_violations()").fetchall() == []
            settings: dict[str, str] = dict(
                conn.execute(
                    "select name, setting from pg_settings where name in "
                    "('archive_mode', 'primary_conninfo', 'cluster_name', 'shared_preload_libraries')"
                ).fetchall()
            )
            assert conn.execute("select pg_is_in_recovery()").fetchone() == (False,)
    assert settings == {
        "archive_mode": "off",
        "primary_conninfo": "",
        "cluster_name": "bazaar-restored",
        "shared_preload_libraries": "",
    }
    # encrypted: the marker is in the database, in no file of the repository
    repository = stack.cluster().root.path / "backup" / "repo1"
    assert not any(marker.encode() in p.read_bytes() for p in repository.rglob("*") if p.is_file())


def test_point_in_time_restores_stop_between_two_commits(
    stack: StackUnderTest, generated: dict[str, Any]
) -> None:
    run = secrets.token_hex(6)
    write(stack, run, 1)
    between_time, between_lsn = server_now(stack), current_lsn(stack)
    write(stack, run, 2)
    archive_now(stack)
    members_before = {m["member"]: m["timeline"] for m in stack.bazaar_json("cluster", "status")}
    wal_max_before = stack.bazaar_json("backup", "info")["wal_max"]

    with restored(stack, "by-time", "--time", between_time) as copy:
        assert rows_in(copy["dsn"], run) == {1}
        assert copy["target"].startswith("to time ") and copy["running"]
    with restored(stack, "by-lsn", "--lsn", between_lsn) as copy:
        assert rows_in(copy["dsn"], run) == {1}
    with restored(stack, "latest") as copy:
        assert rows_in(copy["dsn"], run) == {1, 2}
        with psycopg.connect(copy["dsn"], autocommit=True) as conn:
            assert conn.execute("select count(*) from core.users").fetchone() == (generated["users"],)

    # the live cluster was not touched: same members and timeline, nothing archived by the copies
    assert {m["member"]: m["timeline"] for m in stack.bazaar_json("cluster", "status")} == members_before
    assert stack.bazaar_json("backup", "info")["wal_max"][:8] == wal_max_before[:8]
    runs = stack.bazaar_json("backup", "runs", "--limit", "3")
    assert [r["kind"] for r in runs] == ["restore"] * 3 and all(r["succeeded"] and r["label"] for r in runs)


def test_restore_refuses_what_it_cannot_do_and_leaves_nothing_behind(stack: StackUnderTest) -> None:
    busy = restore_dir(stack, "busy")
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    private = restore_dir(stack, "private")
    private.mkdir(mode=0o700)  # root's alone: postgres cannot enter it
    cases = [
        (["--to", str(busy)], "is not an empty directory"),
        (["--to", str(restore_dir(stack, "t")), "--time", "yesterday"], "is not a date and time"),
        (["--to", str(restore_dir(stack, "t")), "--time", "2999-01-01 00:00:00+00"], "is in the future"),
        (
            ["--to", str(restore_dir(stack, "t")), "--time", "2000-01-01 00:00:00+00"],
            "unable to find backup set",
        ),
        (
            ["--to", str(restore_dir(stack, "t")), "--lsn", "0/1", "--time", "2026-01-01"],
            "choose one recovery target",
        ),
        (["--to", str(restore_dir(stack, "t")), "--lsn", "not-an-lsn"], "is not a WAL position"),
        (["--to", str(restore_dir(stack, "t")), "--lsn", "FF/FFFFFFFF"], "past the end of the archived WAL"),
        (["--to", str(private / "copy")], "cannot reach"),
    ]
    for args, message in cases:
        result = stack.bazaar("backup", "restore", *args)
        assert result.returncode == EXIT_BAD_ARGUMENT, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in busy.parent.iterdir()) == sorted(
        [busy.name, private.name]
    )  # nothing half-restored

    refused = stack.bazaar("backup", "restore-cluster")  # stdin is not a terminal: --yes is required
    assert refused.returncode == EXIT_BAD_ARGUMENT and "--yes" in refused.stderr
    missing = stack.bazaar("backup", "verify", "--repo-path", str(busy))
    assert missing.returncode == EXIT_NOT_FOUND, missing.stderr
    # the stack's pgBackRest config with another passphrase, in a server root of its own
    root = backups_of(stack).root
    passphrase = stack.local.passwords()["pgbackrest"]
    elsewhere = ServerRoot(restore_dir(stack, "wrong-passphrase"))
    make_server_dir(elsewhere.path, 0o700)
    make_server_dir(elsewhere.conf_dir, 0o700)
    text = (root.conf_dir / "pgbackrest.conf").read_text().replace(passphrase, "not-the-passphrase")
    write_server_file(elsewhere.conf_dir / "pgbackrest.conf", text)
    with pytest.raises(BazaarError) as wrong:
        PgBackRest(elsewhere).info()
    assert wrong.value.exit_code == EXIT_NOT_ALLOWED, wrong.value
    shutil.rmtree(elsewhere.path)


def test_verify_restores_checks_and_catches_a_corrupted_repository_copy(stack: StackUnderTest) -> None:
    first = stack.bazaar_json("backup", "verify")
    assert first["tables"] > 10 and first["indexes_checked"] > 10
    second = stack.bazaar_json("backup", "verify")
    assert second["label"] == first["label"] and second["compared_with_earlier"]

    copy = restore_dir(stack, "repo-copy")
    repository = backups_of(stack).root.path / "backup" / "repo1"
    subprocess.run(["cp", "-a", str(repository), str(copy)], check=True)
    newest = sorted((copy / "backup" / "bazaar").glob("*[FDI]"))[-1]
    # the biggest file of data (not the manifest, which pgBackRest keeps a second copy of)
    files = [p for p in newest.rglob("*") if p.is_file() and not p.name.startswith("backup.manifest")]
    biggest = max(files, key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    biggest.write_bytes(bytes(data))
    caught = stack.bazaar("backup", "verify", "--repo-path", str(copy))
    assert caught.returncode == 1, caught.stderr
    assert "failed pgbackrest verify" in caught.stderr and "checksum invalid: 1" in caught.stderr
    shutil.rmtree(copy)
    backups_of(stack).verify_repository()  # the live repository is intact
    last = stack.bazaar_json("backup", "runs", "--limit", "1")[0]
    assert last["kind"] == "verify" and last["succeeded"] is False and "checksum invalid" in last["error"]


def test_stage_gives_a_masked_copy_with_passwords_of_its_own(
    stack: StackUnderTest, generated: dict[str, Any]
) -> None:
    email = f"stage-{secrets.token_hex(4)}@example.com"
    with stack.connect(stack.local.dsn()) as conn:
        conn.execute("select api.register('Ольга Стейджинг', 'correct horse battery', %s)", [email])
    archive_now(stack)
    to = restore_dir(stack, "stage")
    staged = stack.bazaar_json("backup", "stage", "--to", str(to))
    try:
        assert staged["rows_masked"] > 0 and Path(staged["passfile"]).stat().st_mode & 0o077 == 0
        # what is handed over opens no superuser: one of the copy could reach the live nodes
        handed = Path(staged["passfile"]).read_text()
        assert ":bazaar_app:" in handed and ":postgres:" not in handed
        people = "select id, email, phone, display_name, telegram_chat_id, password_hash from core.users"
        with stack.connect(stack.local.admin_dsn()) as conn:
            live = {r[0]: r[1:] for r in conn.execute(people)}
        with psycopg.connect(staged["admin_dsn"], autocommit=True) as conn:
            copy = {r[0]: r[1:] for r in conn.execute(people)}
            emails = {r[0] for r in copy.values()}
            names = {r[2] for r in copy.values()}
            assert email not in emails and "Ольга Стейджинг" not in names
            assert conn.execute("select * from ops.integrity_violations()").fetchall() == []
        # the same people, none of their values: every column differs (or stays NULL)
        assert copy.keys() == live.keys() and len(copy) > generated["users"]
        for column in range(5):
            kept = [i for i in live if live[i][column] is not None and live[i][column] == copy[i][column]]
            assert kept == [], (people.split(", ")[column + 1], kept[:5])
            assert all(e is None or e.endswith("@example.invalid") for e in emails)
            masked_email = next(e for e in emails if e)
        with psycopg.connect(staged["dsn"], autocommit=True) as app:  # bazaar_app, its own password
            token = app.execute(
                "select token from api.login(%s, %s)", [masked_email, staged["sign_in_password"]]
            )
            assert token.fetchone() is not None
        # the live cluster's passwords do not open the copy
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(stack.local.conninfo(staged["port"], "postgres"), connect_timeout=5).close()
    finally:
        RestoredInstance(to, 0, stack.local.pgpass).stop()
        shutil.rmtree(to, ignore_errors=True)
        Path(staged["passfile"]).unlink()
        Path(staged["admin_dsn"].split("passfile=")[1]).unlink()
        with stack.connect(stack.local.admin_dsn()) as conn:  # the marketplace is empty again
            conn.execute("delete from core.users where email = %s", [email])
    assert stack.bazaar_json("backup", "runs", "--limit", "1")[0]["kind"] == "stage"


def test_the_scheduler_takes_what_is_due(stack: StackUnderTest) -> None:
    before = len(stack.bazaar_json("backup", "list"))
    backups = backups_of(stack)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bazaar.backup.schedule",
            "--once",
            "--policy",
            "full=off diff=off incr=1s verify=off",
            "--server-root",
            str(backups.root.path),
            "--dsn",
            backups.admin_dsn,
            "--pgpass",
            str(backups.pgpass),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=stack.env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # its log: JSON lines on stderr (bazaar/jsonlog.py)
    assert "incr@repo1: done: incr backup" in result.stderr and "incr@repo2: done" in result.stderr
    listed = stack.bazaar_json("backup", "list")
    assert len(listed) == before + 2 and sorted(b["repo"] for b in listed if b["type"] == "incr")[-2:] == [
        1,
        2,
    ]
    assert backups.due(Policy.parse("full=off diff=off incr=1h verify=off")) is None


def test_backups_and_restores_follow_a_failover_to_its_new_timeline(stack: StackUnderTest) -> None:
    wait_healthy(stack)
    run = secrets.token_hex(6)
    old_label = stack.bazaar_json("backup", "list")[-1]["label"]
    write(stack, run, 1)
    before = timeline(stack)
    leader = next(m["member"] for m in stack.bazaar_json("cluster", "status") if m["role"] == "leader")
    stack.bazaar_json("cluster", "kill", leader, "--down-for", "5")  # the leader crashes: a failover
    poll(lambda: timeline(stack) > before, HEALTHY_TIMEOUT_S, "a new leader on a new timeline")
    wait_healthy(stack)
    write(stack, run, 2)
    # the scheduler starts a new chain on the new timeline: a full, however recent the last one
    assert backups_of(stack).due(Policy.parse("verify=off")) == "full@repo1"
    backup = stack.bazaar_json("backup", "run", "--type", "full")
    assert int(backup["wal_start"][:8], 16) == timeline(stack)
    assert backups_of(stack).due(Policy.parse("verify=off")) == "full@repo2"  # each on its own
    write(stack, run, 3)
    archive_now(stack)
    # from the backup taken before the switchover, along the timelines to the end of the WAL
    with restored(stack, "across-timelines", "--set", old_label) as copy:
        assert rows_in(copy["dsn"], run) == {1, 2, 3}


def test_restore_cluster_takes_the_whole_cluster_back_to_a_moment(stack: StackUnderTest) -> None:
    wait_healthy(stack)
    run = secrets.token_hex(6)
    old_label = stack.bazaar_json("backup", "list")[-1]["label"]
    write(stack, run, 1)
    target = server_now(stack)
    write(stack, run, 2)
    archive_now(stack)
    before = timeline(stack)

    result = stack.bazaar_json("backup", "restore-cluster", "--time", target, "--yes")
    wait_healthy(stack)
    assert rows_in(stack.local.admin_dsn(), run) == {1}
    assert timeline(stack) == result["timeline"] > before
    members = stack.bazaar_json("cluster", "status")
    assert len(members) == 3 and {m["timeline"] for m in members} == {result["timeline"]}
    newest = stack.bazaar_json("backup", "list")[-1]
    assert newest["label"] == result["backup"] and newest["type"] == "full"
    assert result["seconds_without_leader"] < 60
    # the marketplace's own database came back too, and the application reaches it
    with stack.connect(stack.local.dsn()) as conn:
        assert conn.execute("select api.cluster_probe()").fetchone() is not None
    # no data directory was left aside; an older backup still restores along the new timeline
    root = backups_of(stack).root
    assert not list(root.path.glob("node*/data.before-*")) and not list(root.path.glob("restore-*"))
    write(stack, run, 3)
    archive_now(stack)
    with restored(stack, "after-restore-cluster", "--set", old_label) as copy:
        assert rows_in(copy["dsn"], run) == {1, 3}
    assert stack.bazaar_json("backup", "runs", "--limit", "1")[0]["kind"] == "restore"


def test_pgbackrest_logs_hold_no_passphrase(stack: StackUnderTest) -> None:
    passphrase = stack.local.passwords()["pgbackrest"]
    logs = stack.cluster().root.log_dir
    texts = [p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file()]
    assert texts and not any(passphrase in t for t in texts)
    assert any("repo1-cipher-pass=<redacted>" in t for t in texts)


def test_a_cluster_whose_every_node_is_lost_comes_back_from_the_repository(stack: StackUnderTest) -> None:
    wait_healthy(stack)
    run = secrets.token_hex(6)
    write(stack, run, 1)
    archive_now(stack)
    refused = stack.bazaar("backup", "restore-cluster", "--cluster-down", "--yes")
    assert refused.returncode == 6 and "is not down" in refused.stderr  # a leader is there
    cluster = stack.cluster()
    cluster.supervisor.stop(*NODES)  # every node lost: no PostgreSQL, no data directory
    intact = stack.bazaar("backup", "restore-cluster", "--cluster-down", "--yes")
    assert intact.returncode == 6 and "still hold" in intact.stderr  # leaderless is not lost
    for node in NODES:
        shutil.rmtree(cluster.root.datadir(node))
    no_leader = stack.bazaar("backup", "restore-cluster", "--yes")
    assert no_leader.returncode == 6 and "--cluster-down" in no_leader.stderr

    result = stack.bazaar_json("backup", "restore-cluster", "--cluster-down", "--yes")
    wait_healthy(stack)
    assert result["leader"] == NODES[0]
    assert rows_in(stack.local.admin_dsn(), run) == {1}
    assert {m["timeline"] for m in stack.bazaar_json("cluster", "status")} == {result["timeline"]}
    with stack.connect(stack.local.dsn()) as conn:
        assert conn.execute("select api.cluster_probe()").fetchone() is not None


def test_the_second_repository_backs_up_restores_and_verifies_on_its_own(stack: StackUnderTest) -> None:
    wait_healthy(stack)
    run = secrets.token_hex(6)
    write(stack, run, 1)
    backup = stack.bazaar_json("backup", "run", "--repo", "2", "--type", "incr")
    assert backup["repo"] == 2 and backup["type"] == "incr"
    assert any(p.name == backup["label"] for p in (repo2_of(stack) / "backup" / "bazaar").iterdir())
    archive_now(stack)  # WAL reaches both repositories
    with restored(stack, "from-repo2", "--repo", "2") as copy:
        assert rows_in(copy["dsn"], run) == {1}
    verified = stack.bazaar_json("backup", "verify", "--repo", "2")
    assert verified["label"] == backup["label"]
    missing = stack.bazaar("backup", "run", "--repo", "3")
    assert missing.returncode == 2 and "--repo" in missing.stderr


def test_a_restore_that_cannot_fit_is_refused_before_writing(stack: StackUnderTest) -> None:
    disk = restore_dir(stack, "small-disk")
    disk.mkdir(mode=0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(disk)], check=True)
    try:
        result = stack.bazaar("backup", "restore", "--to", str(disk / "copy"))
        assert (
            result.returncode == EXIT_BAD_ARGUMENT and "MB free; the restored database needs" in result.stderr
        )
        assert list(disk.iterdir()) == []  # refused before writing anything
    finally:
        subprocess.run(["umount", str(disk)], check=True)
