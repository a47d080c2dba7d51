"""The three-node stack for real: topology, access paths, operator commands, and the drills of
issue 7 (leader crash, switchover, replica loss) with a writer that records every acknowledged
commit. One stack per session (conftest.py); the tests run in file order and each leaves the
cluster healthy for the next (they wait for it with a deadline, never a fixed sleep)."""

from __future__ import annotations

import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from bazaar import drill
from bazaar.stack import haproxy, layout
from bazaar.stack.layout import NODES
from bazaar.stack.patroni import TIMING
from bazaar.stack.processes import poll
from bazaar.stack.programs import PROGRAMS
from tests.cluster.conftest import StackUnderTest

HEALTHY_TIMEOUT_S = 120


def wait_healthy(stack: StackUnderTest) -> dict[str, str]:
    """member -> role, once there is one leader and two streaming replicas behind HAProxy."""
    members = stack.cluster().wait_healthy(HEALTHY_TIMEOUT_S)
    return {m.name: m.role for m in members}


def monotonic_of(unix_time: float) -> float:
    """A Unix time (a CLI's JSON) on this process's monotonic clock, which the writer uses."""
    return time.monotonic() - (time.time() - unix_time)


def leader_of(roles: dict[str, str]) -> str:
    return next(name for name, role in roles.items() if role == "leader")


# -- the stack as `bazaar up` leaves it -------------------------------------------------------


def test_one_leader_two_streaming_replicas_and_routing(stack: StackUnderTest) -> None:
    roles = wait_healthy(stack)
    assert sorted(roles.values()) == ["leader", "replica", "sync_standby"]
    members = stack.bazaar_json("cluster", "status")
    assert {m["member"] for m in members} == set(NODES)
    assert len({m["timeline"] for m in members}) == 1
    routes = haproxy.routes(stack.local.ports)
    assert routes["rw"] == [leader_of(roles)]
    assert sorted(routes["ro"]) == sorted(n for n in NODES if n != leader_of(roles))
    with stack.connect(stack.local.admin_dsn()) as conn:
        sync = conn.execute("show synchronous_standby_names").fetchone()
        streaming = conn.execute(
            "select count(*) from pg_stat_replication where state = 'streaming'"
        ).fetchone()
    assert sync is not None and next(n for n, r in roles.items() if r == "sync_standby") in sync[0]
    assert streaming == (2,)


def test_migrations_ran_once_through_the_leader(stack: StackUnderTest) -> None:
    with stack.connect(stack.local.admin_dsn()) as conn:
        rows = conn.execute("select script, count(*) from ops.schema_migrations group by script").fetchall()
    scripts = dict(rows)
    assert scripts["V0001__foundation.sql"] == 1
    assert all(count == 1 for count in scripts.values())
    again = stack.bazaar("--json", "up")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["applied"] == 0
    assert "applying changed configs" not in again.stderr  # same configs, same SCRAM verifiers


def test_bazaar_app_calls_an_api_function_through_pgbouncer_and_the_rw_port(stack: StackUnderTest) -> None:
    leader_port = stack.local.ports.postgres(layout.node_number(leader_of(wait_healthy(stack))))
    app_dsn = stack.bazaar("dsn").stdout.strip()
    assert f"port={stack.local.ports.pgbouncer}" in app_dsn and "user=bazaar_app" in app_dsn
    rw_app_dsn = stack.local.conninfo(stack.local.ports.rw, "bazaar_app")
    for dsn in (app_dsn, rw_app_dsn):
        with stack.connect(dsn) as conn:
            assert conn.execute("select current_user").fetchone() == ("bazaar_app",)
            assert conn.execute("select api.cluster_probe()").fetchone() == (leader_port,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(*) from ops.schema_migrations")


def test_a_slow_call_is_cut_and_the_pooled_connection_survives(stack: StackUnderTest) -> None:
    # the application role's own statement_timeout (V0016), not one the client asked for
    with stack.connect(stack.local.dsn()) as conn:
        assert conn.execute("show statement_timeout").fetchone() == ("5s",)
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("select pg_sleep(30)")
        assert 4.5 < time.monotonic() - started < 15
        assert conn.execute("select api.cluster_probe()").fetchone() is not None


def test_what_the_application_sends_never_reaches_a_log(stack: StackUnderTest) -> None:
    """A sign-in whose password is in the statement text, one with it as a bind parameter, one
    that fails, one that waits on a lock past deadlock_timeout (a LOG line of its session): even
    with the database told to log every statement and explain every plan, no log file holds it."""
    marker = f"Marker-{secrets.token_hex(8)}"
    canary = f"Canary-{secrets.token_hex(8)}"
    log_dir = stack.cluster().root.log_dir
    with stack.connect(stack.local.admin_dsn()) as admin:
        admin.execute("alter database bazaar set log_statement = 'all'")
        admin.execute("alter database bazaar set log_min_duration_statement = 0")
        admin.execute("alter database bazaar set auto_explain.log_min_duration = 0")
    try:
        rw_app = stack.local.conninfo(stack.local.ports.rw, "bazaar_app")
        for dsn in (rw_app, stack.local.dsn()):  # a new backend, then PgBouncer's pool
            with stack.connect(dsn) as app:
                app.execute(f"select * from api.login('nobody@example.com', '{marker}')")
                app.execute("select * from api.login(%s, %s)", ["nobody@example.com", marker])
                with pytest.raises(psycopg.errors.InvalidParameterValue):
                    app.execute(f"select * from api.login('not an address', '{marker}')")

        def logged(text: str) -> bool:
            return any(text in p.read_text(errors="replace") for p in log_dir.rglob("*") if p.is_file())

        # a sign-in held behind an admin's lock: PostgreSQL logs its wait (log_lock_waits) as a LOG
        # line of the application's own session, which V0023 lets through
        with ThreadPoolExecutor(1) as pool, stack.connect(rw_app) as app:
            with stack.connect(stack.local.admin_dsn()) as admin, admin.transaction():
                admin.execute("lock table core.sign_in_failures in exclusive mode")
                waiting = pool.submit(
                    app.execute, "select * from api.login(%s, %s)", ["nobody@example.com", marker]
                )
                poll(lambda: logged("still waiting for RowExclusiveLock"), 30, "the lock wait in the log")
            waiting.result(timeout=30)  # the lock is released: the sign-in ends
        # the admin's statements are logged: once the canary is there, the application's calls are too
        with stack.connect(stack.local.admin_dsn()) as admin:
            admin.execute(f"select '{canary}'")

        poll(lambda: logged(canary), 30, "the admin's statement in a node log")
        assert not logged(marker)
    finally:
        with stack.connect(stack.local.admin_dsn()) as admin:
            admin.execute("alter database bazaar reset log_statement")
            admin.execute("alter database bazaar reset log_min_duration_statement")
            admin.execute("alter database bazaar reset auto_explain.log_min_duration")
            # the failed sign-ins were recorded: the marketplace is empty again for the tests after
            admin.execute("delete from core.sign_in_failures where identifier like 'email:nobody@%'")
    assert log_dir.stat().st_mode & 0o077 == 0
    assert [p.name for p in log_dir.iterdir() if p.stat().st_mode & 0o077] == []


def test_read_only_port_reaches_a_replica_and_refuses_writes(stack: StackUnderTest) -> None:
    # the application's read-only DSN: PgBouncer's bazaar_ro, pooling HAProxy's read-only port
    ro_dsn = stack.bazaar("dsn", "--read-only").stdout.strip()
    assert f"port={stack.local.ports.pgbouncer}" in ro_dsn and "dbname=bazaar_ro" in ro_dsn
    replicas = {stack.local.ports.postgres(n) for n in (1, 2, 3)} - {
        stack.local.ports.postgres(layout.node_number(leader_of(wait_healthy(stack))))
    }
    for dsn in (ro_dsn, stack.local.read_only_dsn()):
        with stack.connect(dsn) as conn:
            assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
            assert conn.execute("select current_database()").fetchone() == ("bazaar",)
            row = conn.execute("select api.cluster_probe()").fetchone()
            assert row is not None and row[0] in replicas
    admin_ro = stack.bazaar("dsn", "--read-only", "--admin").stdout.strip()
    with stack.connect(admin_ro) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("create table public.must_not_exist (id int)")


def test_no_trust_anywhere_and_secrets_stay_private(stack: StackUnderTest) -> None:
    for node in NODES:
        with stack.connect(stack.node_dsn(node)) as conn:
            rules = conn.execute("select type, user_name, auth_method from pg_hba_file_rules").fetchall()
        # passwords on TCP; on the socket only the postgres OS user, as postgres (pgBackRest)
        peer = ("local", ["postgres"], "peer")
        assert rules and all(r[2] in ("scram-sha-256", "reject") or r == peer for r in rules), (node, rules)
        assert rules[0] == peer
    # the marketplace's roles reach its database only, where V0016's revocations hold
    app_elsewhere = stack.local.conninfo(stack.local.ports.rw, "bazaar_app", "postgres")
    with pytest.raises(psycopg.OperationalError, match="rejects connection"):
        stack.connect(app_elsewhere)
    for dsn in (stack.local.dsn(), stack.local.admin_dsn()):  # PgBouncer, then HAProxy -> leader
        wrong = dsn.split(" passfile=")[0] + " password=wrong"
        with pytest.raises(psycopg.OperationalError, match="authentication failed"):
            stack.connect(wrong)
    passwords = list(stack.local.passwords().values())
    # postgres, 4 logins, 4 service users, the backup repository's passphrase
    assert len(passwords) == 10 and all(len(p) >= 24 for p in passwords)
    conf = stack.cluster().root.conf_dir
    for path in (stack.local.pgpass, conf / "node1.yml", conf / "userlist.txt"):
        assert path.stat().st_mode & 0o077 == 0, path
    printed = stack.up_output + "".join(
        stack.bazaar(*a).stdout for a in (("dsn",), ("dsn", "--admin"), ("dsn", "--read-only"), ("status",))
    )
    assert not any(p in printed for p in passwords)


def test_status_shows_every_process_and_the_cluster(stack: StackUnderTest) -> None:
    wait_healthy(stack)

    def healthy() -> Any:
        result = stack.bazaar("status", "--json")
        return json.loads(result.stdout) if result.returncode == 0 else None

    status = poll(healthy, 60, "`bazaar status` to exit 0")
    assert status["healthy"] is True and status["problems"] == []
    assert [(p["name"], p["state"]) for p in status["processes"]] == [
        (program.name, "running") for program in PROGRAMS
    ]
    assert all(isinstance(p["pid"], int) for p in status["processes"])
    assert {m["role"] for m in status["cluster"]} == {"leader", "sync_standby", "replica"}
    table = stack.bazaar("status").stdout
    assert re.search(r"^MEMBER\s+HOST\s+ROLE\s+STATE\s+TIMELINE\s+LAG_MB", table, re.M)
    assert "health: ok" in table


def test_status_exits_6_and_names_what_is_wrong(stack: StackUnderTest) -> None:
    supervisor = stack.cluster().supervisor
    supervisor.ctl("stop", "node-exporter")
    try:
        result = stack.bazaar("status")
        assert result.returncode == 6, result.stdout + result.stderr
        assert "health: 1 problem(s)\n  - program node-exporter is stopped" in result.stdout
        as_json = stack.bazaar("status", "--json")
        assert as_json.returncode == 6
        assert json.loads(as_json.stdout)["problems"] == ["program node-exporter is stopped"]
    finally:
        supervisor.ctl("start", "node-exporter")


def test_operator_commands_refuse_what_cannot_be_done(stack: StackUnderTest) -> None:
    leader = leader_of(wait_healthy(stack))
    to_self = stack.bazaar("cluster", "switchover", "--to", leader)
    assert to_self.returncode == 6 and to_self.stderr.startswith("error: ")
    reinit_leader = stack.bazaar("cluster", "reinit", leader)
    assert reinit_leader.returncode == 6
    unknown = stack.bazaar("cluster", "kill", "node9")
    assert unknown.returncode == 2
    for command in ("status", "switchover", "failover", "restart", "reinit", "kill"):
        assert stack.bazaar("cluster", command, "--help").returncode == 0


def test_restart_and_reinit_a_replica(stack: StackUnderTest) -> None:
    roles = wait_healthy(stack)
    replica = next(n for n, r in roles.items() if r == "replica")
    restarted = stack.bazaar_json("cluster", "restart", replica)
    assert restarted["node"] == replica
    rebuilt = stack.bazaar_json("cluster", "reinit", replica)
    assert rebuilt["node"] == replica
    assert leader_of(wait_healthy(stack)) == leader_of(roles)


# -- drills ------------------------------------------------------------------------------------


def test_leader_crash_loses_no_acknowledged_write_and_the_old_leader_rejoins(stack: StackUnderTest) -> None:
    old = leader_of(wait_healthy(stack))
    with drill.Writer(stack.drill_dsn("rw")) as writer:
        writer.wait_for_acks_after(time.monotonic(), 20, 30)
        killed = stack.bazaar_json("cluster", "kill", old, "--down-for", str(TIMING.ttl + 10))
        fault_at = monotonic_of(killed["at"])
        writer.wait_for_acks_after(fault_at, 20, TIMING.ttl + 40)
    new = stack.cluster().patroni.leader_name()
    assert new is not None and new != old
    present = drill.stored(stack.local.admin_dsn(drill.DRILL_DATABASE), writer.run)
    result = drill.outcome(writer, fault_at, present)
    assert result.lost == 0, result
    assert result.errors > 0  # the crash was visible: this was a real failover
    assert writer.read_only_errors() == []  # never routed to the new leader before it took writes
    # the old leader comes back as a replica of the new timeline and has every row
    roles = wait_healthy(stack)
    assert roles[old] != "leader" and leader_of(roles) == new
    with stack.connect(stack.node_dsn(old, drill.DRILL_DATABASE)) as conn:
        rows = conn.execute("select n from public.drill_writes where run = %s", [writer.run]).fetchall()
    assert writer.acknowledged() <= {r[0] for r in rows}


def test_switchover_is_a_short_wait_for_pgbouncer_clients(stack: StackUnderTest) -> None:
    old = leader_of(wait_healthy(stack))
    pooled = drill.Writer(stack.drill_dsn("pgbouncer")).start()
    direct = drill.Writer(stack.drill_dsn("rw")).start()
    try:
        pooled.wait_for_acks_after(time.monotonic(), 20, 30)
        fault_at = time.monotonic()
        result = stack.bazaar_json("cluster", "switchover")
        pooled.wait_for_acks_after(time.monotonic(), 20, 30)
        direct.wait_for_acks_after(time.monotonic(), 20, 30)
    finally:
        pooled.stop()
        direct.stop()
    assert result["from"] == old and result["to"] != old
    assert stack.cluster().patroni.leader_name() == result["to"]
    dsn = stack.local.admin_dsn(drill.DRILL_DATABASE)
    through_pgbouncer = drill.outcome(pooled, fault_at, drill.stored(dsn, pooled.run))
    through_rw = drill.outcome(direct, fault_at, drill.stored(dsn, direct.run))
    assert through_pgbouncer.lost == 0 and through_rw.lost == 0
    assert through_pgbouncer.errors == 0, pooled.failed()
    assert direct.read_only_errors() == []  # HAProxy waits for the promotion, not just the key
    assert result["paused_s"] < 10
    # a paused client waited, it did not fail: its slowest commit spans the pause
    assert through_pgbouncer.longest_commit_s < result["paused_s"] + 2


def test_losing_a_replica_does_not_stop_writes_and_it_rejoins(stack: StackUnderTest) -> None:
    roles = wait_healthy(stack)
    sync = next(n for n, r in roles.items() if r == "sync_standby")
    with drill.Writer(stack.drill_dsn("rw")) as writer:
        writer.wait_for_acks_after(time.monotonic(), 20, 30)
        killed = stack.bazaar_json("cluster", "kill", sync, "--down-for", "3")
        fault_at = monotonic_of(killed["at"])
        # synchronous mode names the other replica; commits go on (at most a short wait)
        writer.wait_for_acks_after(fault_at, 40, 30)
    present = drill.stored(stack.local.admin_dsn(drill.DRILL_DATABASE), writer.run)
    result = drill.outcome(writer, fault_at, present)
    assert result.lost == 0 and result.errors == 0, writer.failed()
    assert result.longest_commit_s < TIMING.ttl
    roles_after = wait_healthy(stack)
    assert leader_of(roles_after) == leader_of(roles)
    assert roles_after[sync] in ("replica", "sync_standby")


# -- stopping and starting again (last: the other tests need the stack up) --------------------


def test_down_stops_everything_and_up_restarts_with_the_same_data(stack: StackUnderTest) -> None:
    cluster = stack.cluster()
    down = stack.bazaar("down")
    assert down.returncode == 0 and "down" in down.stdout
    assert not cluster.supervisor.running()
    stopped = stack.bazaar("status", "--json")
    assert stopped.returncode == 6  # a stack that is down is not healthy
    status = json.loads(stopped.stdout)
    assert {p["state"] for p in status["processes"]} == {"stopped"}
    assert status["healthy"] is False and "no leader: writes fail" in status["problems"]
    assert all(not (cluster.root.datadir(n) / "postmaster.pid").exists() for n in NODES)
    assert stack.bazaar("db", "status").returncode == 7
    assert stack.bazaar("down").stdout.strip() == "bazaar was not running"
    assert stack.bazaar("cluster", "status").returncode == 6
    up = stack.bazaar_json("up")
    assert up["applied"] == 0
    wait_healthy(stack)
