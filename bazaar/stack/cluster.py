"""The three-node Patroni cluster of a stack, and the operator commands behind `bazaar cluster`.

Processes (all as the ``postgres`` OS user, under one root supervisord): etcd (Patroni's DCS),
three Patroni nodes (each runs one PostgreSQL 15), HAProxy (rw/ro ports routed by Patroni's REST
health checks) and PgBouncer (transaction pooling in front of the rw port): PROGRAMS.

Patroni does the work: the commands here only ask it (``POST /switchover`` …) and wait, with a
deadline, until the cluster and the routing say the change happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import psycopg

from bazaar import config, queries
from bazaar.db import loopback_dsn
from bazaar.errors import EXIT_WRONG_STATE, BazaarError
from bazaar.stack import haproxy, pgbouncer
from bazaar.stack.host import pg_ctl, server_home
from bazaar.stack.layout import NODES, ServerRoot, node_number
from bazaar.stack.patroni import TIMING, Member, PatroniAPI, Timing, refused
from bazaar.stack.processes import children, dead_children, poll, postmaster_pid, run
from bazaar.stack.programs import PROGRAMS, write_configs
from bazaar.stack.supervisor import Supervisor
from bazaar.stack.templates import Context
from bazaar.stack.users import PGBOUNCER_ADMIN, SUPERUSER

STUCK_AFTER_S = 30  # see Cluster.unstick


@dataclass(frozen=True)
class Cluster:
    """The stack's processes under one server root; SECRETS maps user -> password."""

    root: ServerRoot
    ports: config.Ports
    secrets: Mapping[str, str] = field(repr=False)
    timing: Timing = TIMING

    @cached_property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.root)

    @cached_property
    def patroni(self) -> PatroniAPI:
        return PatroniAPI(self.ports, self.secrets)

    # -- configuration and processes -------------------------------------------------------

    def render(self, daemon_bin: Path) -> set[str]:
        """Write every config from its template; the names of the files that changed."""
        context = Context(self.root, self.ports, self.secrets, self.timing, daemon_bin, server_home())
        return write_configs(context)

    def verifiers(self) -> dict[str, str]:
        """user -> SCRAM verifier, as PgBouncer's auth_file holds them (empty before the first render)."""
        return pgbouncer.verifiers(self.root.conf_dir)

    def ports_in_use(self) -> list[str]:
        return [f"{name} {port}" for name, port in self.ports.all().items() if config.port_in_use(port)]

    def start(self, changed: set[str] | None = None) -> None:
        """Start supervisord (and with it every program), or start what is stopped.

        CHANGED (from ``render``): configs rewritten while the stack runs are applied — Patroni
        and PgBouncer reload on SIGHUP, HAProxy restarts, supervisord re-reads its programs.
        """
        if self.supervisor.running():
            self.supervisor.apply(changed or set())
            return
        busy = self.ports_in_use()
        if busy:
            raise BazaarError(
                f"cannot start the stack: port(s) in use: {', '.join(busy)}",
                exit_code=EXIT_WRONG_STATE,
                hint="another stack or program holds them; move this one with BAZAAR_PORT_OFFSET",
            )
        self.supervisor.launch()

    def stop(self) -> bool:
        """Stop cleanly: the programs that follow the nodes (routing first), then the replicas, the
        leader, the programs before the nodes (etcd), supervisord. False when it was not running."""
        if not self.supervisor.running():
            self._stop_orphans()
            return False
        nodes = [i for i, p in enumerate(PROGRAMS) if p.name in NODES]
        self.supervisor.stop(*(p.name for p in reversed(PROGRAMS[nodes[-1] + 1 :])))
        leader = self.patroni.leader_name()
        self.supervisor.stop(*(n for n in NODES if n != leader))
        self.supervisor.stop(*(NODES if leader is None else (leader,)))
        self.supervisor.stop(*(p.name for p in reversed(PROGRAMS[: nodes[0]])))
        self.supervisor.shutdown()
        self._stop_orphans()
        return True

    def _stop_orphans(self) -> None:
        """A PostgreSQL left behind by a SIGKILLed Patroni: stop it too."""
        for name in NODES:
            datadir = self.root.datadir(name)
            if postmaster_pid(datadir) is not None:
                argv = pg_ctl(datadir, "stop", mode="fast", timeout=110)
                run(argv, "pg_ctl stop", check=False, timeout=120, cwd=self.root.path)

    # -- routing -----------------------------------------------------------------------------

    def routed_to_leader(self) -> str | None:
        """The leader's name once the rw port leads to it alone and it accepts writes.

        Patroni may call a node the leader (and answer GET /primary) a moment before its
        PostgreSQL has left recovery: a write sent then fails with "read-only transaction".
        """
        leader = self.patroni.leader_name()
        if leader and haproxy.routes(self.ports)["rw"] == [leader] and self._accepts_writes(self.ports.rw):
            return leader
        return None

    def _accepts_writes(self, port: int) -> bool:
        """Does the PostgreSQL behind PORT (a node's, or HAProxy's rw) take writes: out of recovery?"""
        conninfo = loopback_dsn(
            port, SUPERUSER, "postgres", password=self.secrets[SUPERUSER], connect_timeout=2
        )
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                return conn.execute(queries.load("server_in_recovery")).fetchone() == (False,)
        except psycopg.OperationalError:
            return False

    def writable_nodes(self) -> list[str]:
        """The nodes whose PostgreSQL accepts writes, each asked directly, not through Patroni or
        HAProxy: more than one is a split brain."""
        return [name for n, name in enumerate(NODES, start=1) if self._accepts_writes(self.ports.postgres(n))]

    def wait_healthy(self, timeout: float = 180) -> list[Member]:
        """Wait for a leader, two streaming replicas and HAProxy routing agreeing with them.

        While waiting, a node whose Patroni is stuck (see unstick) is restarted.
        """
        stuck_since: dict[str, float] = {}

        def check() -> list[Member] | None:
            members = self.patroni.healthy()
            if members is None:
                self.unstick(stuck_since)
                return None
            routes = haproxy.routes(self.ports)
            leader = next(m.name for m in members if m.role == "leader")
            replicas = sorted(m.name for m in members if m.role != "leader")
            return members if routes["rw"] == [leader] and sorted(routes["ro"]) == replicas else None

        return poll(check, timeout, "a leader, two streaming replicas and HAProxy routing to them", 0.3)

    def unstick(self, stuck_since: dict[str, float], after: float = STUCK_AFTER_S) -> list[str]:
        """Restart the Patroni of a node that says `starting` with no PostgreSQL for AFTER seconds.

        Seen here about once in 80 switchovers (Patroni 4.1.5): the demoted leader's Patroni starts
        PostgreSQL through a spawned helper process, the helper exits (status 255) without
        reporting, and Patroni waits on its pipe forever ("switchover: demote in progress").
        Patroni then has no PostgreSQL to stop, so SIGKILL is safe; supervisord starts it again
        and it rejoins as a replica. STUCK_SINCE carries the first sightings between calls.
        """
        now = time.monotonic()
        restarted = []
        states = {m.name: m.state for m in self.patroni.members()}
        for name in NODES:
            if states.get(name) != "starting" or postmaster_pid(self.root.datadir(name)) is not None:
                stuck_since.pop(name, None)
                continue
            first = stuck_since.setdefault(name, now)
            if now - first >= after:
                patroni = self.supervisor.program_pid(name)
                helpers = dead_children(patroni) if patroni else []
                evidence = f"; its helper process {', '.join(helpers)} without reporting" if helpers else ""
                print(
                    f"warning: {name}'s Patroni has said 'starting' without a PostgreSQL for "
                    f"{now - first:.0f} s{evidence}; restarting it (docs/runbooks/failover.md)",
                    file=sys.stderr,
                )
                self.supervisor.ctl("signal", "KILL", name, check=False)
                stuck_since.pop(name, None)
                restarted.append(name)
        return restarted

    # -- operator commands -----------------------------------------------------------------

    def _require_leader(self) -> str:
        leader = self.patroni.leader_name()
        if leader is None:
            raise BazaarError("the cluster has no running leader", exit_code=EXIT_WRONG_STATE)
        return leader

    def switchover(self, candidate: str | None = None, pause_pgbouncer: bool = True) -> dict[str, Any]:
        """Planned switchover that PgBouncer's clients only see as a short wait.

        PAUSE (PgBouncer waits for running transactions, then closes its server connections;
        new queries queue), POST /switchover, wait until HAProxy's rw port leads to the new
        leader alone, RESUME (new server connections go to the new leader). RESUME runs even when
        the switchover fails.
        """
        leader = self._require_leader()
        candidate = candidate or self.patroni.sync_standby()
        if candidate is None:
            raise BazaarError("no synchronous standby to switch over to", exit_code=EXIT_WRONG_STATE)
        node_number(candidate)
        if candidate == leader:
            raise BazaarError(f"{candidate} is already the leader", exit_code=EXIT_WRONG_STATE)
        started = time.monotonic()
        console = (
            pgbouncer.console_connection(self.ports, self.secrets[PGBOUNCER_ADMIN])
            if pause_pgbouncer
            else contextlib.nullcontext(None)
        )
        with console as conn:
            paused_at = time.monotonic()
            if conn is not None:
                pgbouncer.console(conn, "PAUSE")
                paused_at = time.monotonic()
            # Patroni answers POST /switchover after polling the DCS in whole seconds: run the
            # request in a thread and resume PgBouncer as soon as the routing shows the new leader.
            request = _Background(
                lambda: self.patroni.rest(
                    leader, "POST", "/switchover", {"leader": leader, "candidate": candidate}, timeout=60
                )
            )
            try:

                def done() -> bool:
                    if request.finished() and request.result()[0] != 200:
                        status, text = request.result()
                        raise refused("switchover", status, text)
                    return self.routed_to_leader() == candidate

                poll(done, 60, f"HAProxy's read-write port to lead to {candidate}", 0.05, fatal=BazaarError)
                routed_at = time.monotonic()
            finally:
                if conn is not None:
                    pgbouncer.console(conn, "RESUME")
            resumed_at = time.monotonic()
        status, text = request.result(timeout=60)
        if status != 200:
            raise refused("switchover", status, text)
        return {
            "from": leader,
            "to": candidate,
            "pgbouncer_paused": pause_pgbouncer,
            "pause_wait_s": round(paused_at - started, 3),
            "switched_and_routed_s": round(routed_at - paused_at, 3),
            "paused_s": round(resumed_at - paused_at, 3) if pause_pgbouncer else None,
            "total_s": round(resumed_at - started, 3),
        }

    def failover(self, candidate: str | None = None) -> dict[str, Any]:
        """Manual failover to CANDIDATE (default: the synchronous standby)."""
        candidate = candidate or self.patroni.sync_standby()
        if candidate is None:
            raise BazaarError("no synchronous standby to fail over to", exit_code=EXIT_WRONG_STATE)
        node_number(candidate)
        started = time.monotonic()
        status, text = self.patroni.rest(candidate, "POST", "/failover", {"candidate": candidate}, timeout=60)
        if status != 200:
            raise refused("failover", status, text)
        poll(lambda: self.routed_to_leader() == candidate, 30, f"the read-write port to lead to {candidate}")
        return {"to": candidate, "seconds": round(time.monotonic() - started, 3), "patroni": text.strip()}

    def restart(self, node: str, timeout: float = 120) -> dict[str, Any]:
        """Restart NODE's PostgreSQL through Patroni (a leader stays the leader)."""
        node_number(node)
        before = postmaster_pid(self.root.datadir(node))
        started = time.monotonic()
        status, text = self.patroni.rest(node, "POST", "/restart", {}, timeout=timeout)
        if status != 200:
            raise refused("restart", status, text)
        self._wait_new_postmaster(node, before, timeout)
        return {"node": node, "seconds": round(time.monotonic() - started, 3), "patroni": text.strip()}

    def apply_pending_restarts(self, progress: Callable[[str], None]) -> list[str]:
        """Restart the nodes a changed setting waits on (archive_mode, say), writes going on: the
        replicas in place, then the leader after a switchover to a restarted replica, so clients
        see no more than the switchover's pause. The nodes restarted, in order."""
        pending = self.patroni.pending_restart()
        leader = self._require_leader()
        for node in [n for n in pending if n != leader]:
            progress(f"restarting {node} for its changed settings")
            self.restart(node)
        if leader in pending:
            progress(f"switching over from {leader} to restart it for its changed settings")
            self.switchover()
            self.wait_healthy()  # the old leader finishes its demotion and streams first
            self.restart(leader)
        return pending

    def reinit(self, node: str, timeout: float = 180) -> dict[str, Any]:
        """Rebuild a replica's data directory from the leader (Patroni's reinitialize)."""
        node_number(node)
        if node == self.patroni.leader_name():
            raise BazaarError(f"{node} is the leader: only a replica can be reinitialised", exit_code=6)
        before = postmaster_pid(self.root.datadir(node))
        started = time.monotonic()
        status, text = self.patroni.rest(node, "POST", "/reinitialize", {"force": True}, timeout=30)
        if status != 200:
            raise refused("reinitialize", status, text)
        # Patroni answers at once and rebuilds in the background: wait for the new server to stream.
        self._wait_new_postmaster(node, before, timeout)
        return {"node": node, "seconds": round(time.monotonic() - started, 3), "patroni": text.strip()}

    def _wait_new_postmaster(self, node: str, before: int | None, timeout: float) -> None:
        """Wait until NODE runs a PostgreSQL other than BEFORE and the cluster is healthy again."""
        poll(
            lambda: postmaster_pid(self.root.datadir(node)) not in (None, before),
            timeout,
            f"a new PostgreSQL on {node}",
        )
        self.wait_healthy(timeout)

    def kill(self, node: str, postgres_only: bool = False, down_for: float = 30) -> dict[str, Any]:
        """Simulate a crash of NODE with SIGKILL (drills).

        Whole node: Patroni and every PostgreSQL process of the node are killed, and supervisord's
        restart of Patroni is held back DOWN_FOR seconds (run-patroni.sh waits on a hold file), as a
        machine that stays down would. Then the node comes back and rejoins (pg_rewind).
        PostgreSQL only: the postmaster and its children die, Patroni stays and recovers.
        """
        node_number(node)
        postmaster = postmaster_pid(self.root.datadir(node))
        patroni = None if postgres_only else self.supervisor.program_pid(node)
        if not postgres_only:
            hold = self.root.run_dir / f"{node}.hold"
            hold.write_text(f"{int(time.time() + down_for)}\n")
            hold.chmod(0o644)
        victims = [p for p in (patroni, postmaster) if p is not None]
        if postmaster is not None:
            victims += children(postmaster)
        if not victims:
            raise BazaarError(f"{node} has no running Patroni or PostgreSQL to kill", exit_code=6)
        killed_at = time.time()
        killed_monotonic = time.monotonic()
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return {
            "node": node,
            "killed": "postgresql" if postgres_only else "patroni+postgresql",
            "pids": victims,
            "at": killed_at,  # Unix time of the SIGKILLs
            "at_monotonic": killed_monotonic,  # the same moment on this process's monotonic clock
            "down_for_s": None if postgres_only else down_for,
        }


class _Background:
    """Run one call in a thread; ask whether it finished and for its result."""

    def __init__(self, call: Callable[[], tuple[int, str]]) -> None:
        self._result: tuple[int, str] | None = None
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], tuple[int, str]]) -> None:
        try:
            self._result = call()
        except Exception as exc:  # handed to the caller by result()
            self._error = exc

    def finished(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None) -> tuple[int, str]:
        self._thread.join(timeout)
        if self._error is not None:
            raise BazaarError(f"Patroni's REST API: {self._error}")
        if self._result is None:
            raise BazaarError("Patroni's REST API did not answer in time")
        return self._result
