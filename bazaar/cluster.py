"""The three-node Patroni cluster of the local stack: renders ``patroni/`` into the server root,
runs everything under supervisord, and wraps Patroni's REST API for operator commands.

Processes (all as the ``postgres`` OS user, started by a root supervisord): etcd (Patroni's DCS),
three Patroni nodes (each runs one PostgreSQL 15), HAProxy (rw/ro ports routed by Patroni's REST
health checks) and PgBouncer (transaction pooling in front of the rw port).

Layout under the server root (``$BAZAAR_HOME/server`` or its /var/lib/bazaar target):
``conf/`` generated configs (0700, some hold passwords), ``run/`` pid files, the supervisord socket
and the drill hold files, ``log/`` one log per program, ``etcd/`` the DCS data, ``nodeN/data``.

Patroni does the work: this module only asks it (``POST /switchover`` …) and waits, with a
deadline, until the cluster and the routing say the change happened.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, TypeVar

import psycopg

from bazaar import config, queries, scram
from bazaar.db import loopback_dsn
from bazaar.errors import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_WRONG_STATE, BazaarError
from bazaar.pgnode import (
    SERVER_USER,
    as_server_user,
    bindir,
    make_server_dir,
    running_as_root,
)

NODES = tuple(f"node{n}" for n in range(1, config.NODES + 1))
REST_USER = "patroni_api"  # Patroni REST API basic-auth user (POST endpoints)
PGBOUNCER_ADMIN = "bazaar_pgbouncer"  # PgBouncer console user: PAUSE / RESUME during switchover
REPLICATION_USER = "replicator"
REWIND_USER = "rewinder"
# Roles that log in through PgBouncer (its auth_file holds their SCRAM verifiers).
POOLED_ROLES = ("bazaar_app", "bazaar_worker", "bazaar_analyst", "bazaar_monitor")
DAEMON_VENV_ROOT = Path("/var/lib/bazaar")
# What the daemon venv holds; versions come from requirements.lock (used as a constraints file).
DAEMON_REQUIREMENTS = ("patroni[etcd3]", "psycopg[binary]")

T = TypeVar("T")
STUCK_AFTER_S = 30  # see Cluster.unstick


@dataclass(frozen=True)
class Timing:
    """Patroni's DCS timing (docs/adr/0003-patroni-timing-and-failover.md).

    Patroni raises ttl below 20 to 20, loop_wait below 1 to 1, retry_timeout below 3 to 3, and
    wants loop_wait + 2 * retry_timeout <= ttl.
    """

    ttl: int = 20
    loop_wait: int = 1
    retry_timeout: int = 5
    primary_start_timeout: int = 10

    def __post_init__(self) -> None:
        if self.ttl < 20 or self.loop_wait < 1 or self.retry_timeout < 3:
            raise ValueError("Patroni would silently raise these to ttl 20, loop_wait 1, retry_timeout 3")
        if self.loop_wait + 2 * self.retry_timeout > self.ttl:
            raise ValueError("Patroni requires loop_wait + 2 * retry_timeout <= ttl")


TIMING = Timing()


def templates_dir() -> Path:
    return config.project_root() / "patroni"


def render_template(template: str, **values: object) -> str:
    """patroni/TEMPLATE with its ${placeholders} filled in; a missing value is an error."""
    text = (templates_dir() / template).read_text()
    return Template(text).substitute({k: str(v) for k, v in values.items()})


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


def _server_ids() -> tuple[int, int]:
    if not running_as_root():
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def _write(path: Path, text: str, mode: int = 0o600) -> bool:
    """Write TEXT owned by the server user; True when the content changed."""
    try:
        changed = path.read_text() != text
    except FileNotFoundError:
        changed = True
    if changed:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.chown(tmp, *_server_ids())
        tmp.chmod(mode)
        tmp.replace(path)
    return changed


# -- the daemon venv ---------------------------------------------------------------------------


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
    venv = DAEMON_VENV_ROOT / f"daemon-venv-{digest}"
    stamp = venv / ".bazaar-complete"
    if stamp.exists():
        return venv / "bin"
    DAEMON_VENV_ROOT.mkdir(mode=0o755, exist_ok=True)
    with (DAEMON_VENV_ROOT / ".daemon-venv.lock").open("w") as lockfile:
        fcntl.flock(lockfile, fcntl.LOCK_EX)  # two stacks starting at once build it once
        if not stamp.exists():
            shutil.rmtree(venv, ignore_errors=True)
            _run(["/usr/bin/python3", "-m", "venv", str(venv)], "creating the daemon venv")
            _run(
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


def _run(argv: list[str], what: str, timeout: float = 600) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise BazaarError(f"{what} failed (exit {result.returncode}): {output[-2000:]}")
    return result.stdout


# -- the cluster -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One node as Patroni's GET /cluster reports it."""

    name: str
    role: str  # leader | sync_standby | replica
    state: str  # running | streaming | starting | stopped | …
    host: str
    port: int
    timeline: int | None
    lag: int | str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Member:
        lag = data.get("lag")
        return cls(
            name=str(data["name"]),
            role=str(data.get("role", "")),
            state=str(data.get("state", "")),
            host=str(data.get("host", "")),
            port=int(data.get("port", 0)),
            timeline=data.get("timeline"),
            lag=lag if lag is not None or data.get("role") == "leader" else None,
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "member": self.name,
            "host": f"{self.host}:{self.port}",
            "role": self.role,
            "state": self.state,
            "timeline": self.timeline,
            "lag_mb": _lag_mb(self.lag) if self.role != "leader" else None,
        }


def _lag_mb(lag: int | str | None) -> float | str | None:
    if isinstance(lag, int):
        return round(lag / 1048576, 1)
    return lag


@dataclass(frozen=True)
class Cluster:
    """The stack's processes under one server root; SECRETS maps user -> password."""

    root: Path
    ports: config.Ports
    secrets: Mapping[str, str] = field(repr=False)
    timing: Timing = TIMING

    # -- layout ----------------------------------------------------------------------------

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def supervisord_conf(self) -> Path:
        return self.conf_dir / "supervisord.conf"

    @property
    def stack_id(self) -> str:
        return hashlib.sha256(str(self.root).encode()).hexdigest()[:12]

    @property
    def socket(self) -> Path:
        """supervisord's socket: in run/, or under /tmp when that path is too long for AF_UNIX."""
        path = self.run_dir / "supervisor.sock"
        return path if len(str(path)) < 100 else Path(f"/tmp/bazaar-{self.stack_id}-supervisor.sock")  # noqa: S108

    def node_number(self, name: str) -> int:
        if name not in NODES:
            raise BazaarError(f"no node {name!r}: the nodes are {', '.join(NODES)}", exit_code=EXIT_NOT_FOUND)
        return NODES.index(name) + 1

    def datadir(self, name: str) -> Path:
        return self.root / name / "data"

    # -- configuration ---------------------------------------------------------------------

    def render(self, patroni_bin: Path) -> set[str]:
        """Write every config from the templates in patroni/; the names of the files that changed."""
        changed: set[str] = set()
        for d, mode in ((self.conf_dir, 0o700), (self.run_dir, 0o755), (self.log_dir, 0o700)):
            make_server_dir(d, mode)
        for log in self.log_dir.iterdir():
            log.chmod(0o600)  # logs written before supervisord's umask was 077
        make_server_dir(self.root / "etcd", 0o700)
        server_home = pwd.getpwuid(_server_ids()[0]).pw_dir
        common = {
            "conf_dir": self.conf_dir,
            "run_dir": self.run_dir,
            "log_dir": self.log_dir,
            "server_root": self.root,
        }
        for n, name in enumerate(NODES, start=1):
            node_dir = make_server_dir(self.root / name, 0o700)
            text = render_template(
                "patroni.yml",
                name=name,
                rest_port=self.ports.patroni(n),
                rest_user=REST_USER,
                rest_password=self.secrets[REST_USER],
                etcd_port=self.ports.etcd,
                ttl=self.timing.ttl,
                loop_wait=self.timing.loop_wait,
                retry_timeout=self.timing.retry_timeout,
                primary_start_timeout=self.timing.primary_start_timeout,
                pg_port=self.ports.postgres(n),
                data_dir=self.datadir(name),
                bin_dir=bindir(),
                node_dir=node_dir,
                superuser_password=self.secrets["postgres"],
                replication_password=self.secrets[REPLICATION_USER],
                rewind_password=self.secrets[REWIND_USER],
            )
            if _write(self.conf_dir / f"{name}.yml", text):
                changed.add(f"{name}.yml")
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{self.ports.postgres(n)} check port {self.ports.patroni(n)}"
            for n, name in enumerate(NODES, start=1)
        )
        if _write(
            self.conf_dir / "haproxy.cfg",
            render_template(
                "haproxy.cfg",
                rw_port=self.ports.rw,
                ro_port=self.ports.ro,
                stats_port=self.ports.stats,
                rw_servers=servers,
                ro_servers=servers,
            ),
        ):
            changed.add("haproxy.cfg")
        if _write(
            self.conf_dir / "pgbouncer.ini",
            render_template(
                "pgbouncer.ini",
                rw_port=self.ports.rw,
                pgbouncer_port=self.ports.pgbouncer,
                admin_user=PGBOUNCER_ADMIN,
                **common,
            ),
        ):
            changed.add("pgbouncer.ini")
        if self.write_userlist():
            changed.add("userlist.txt")
        _write(self.conf_dir / "run-patroni.sh", (templates_dir() / "run-patroni.sh").read_text(), 0o755)
        programs = "\n".join(
            render_template(
                "supervisord-node.conf",
                name=name,
                patroni=patroni_bin / "patroni",
                server_home=server_home,
                **common,
            )
            for name in NODES
        )
        if _write(
            self.supervisord_conf,
            render_template(
                "supervisord.conf",
                socket=self.socket,
                stack_id=self.stack_id,
                etcd_dir=self.root / "etcd",
                etcd_port=self.ports.etcd,
                etcd_peer_port=self.ports.etcd_peer,
                node_programs=programs,
                server_home=server_home,
                **common,
            ),
        ):
            changed.add("supervisord.conf")
        return changed

    def verifiers(self) -> dict[str, str]:
        """user -> SCRAM verifier, as in PgBouncer's auth_file (empty before the first render)."""
        result: dict[str, str] = {}
        try:
            text = (self.conf_dir / "userlist.txt").read_text()
        except FileNotFoundError:
            return result
        for line in text.splitlines():
            parts = line.split('"')
            if len(parts) >= 5:
                result[parts[1]] = parts[3]
        return result

    def write_userlist(self) -> bool:
        """PgBouncer's auth_file: a verifier per pooled role and for the console user.

        A verifier that still matches its password is kept (so the server's copy stays equal).
        """
        current = self.verifiers()
        lines = []
        for user in (*POOLED_ROLES, PGBOUNCER_ADMIN):
            password = self.secrets[user]
            kept = current.get(user)
            value = kept if kept and scram.matches(kept, password) else scram.verifier(password)
            lines.append(f'"{user}" "{value}"')
        return _write(self.conf_dir / "userlist.txt", "\n".join(lines) + "\n")

    # -- supervisord -----------------------------------------------------------------------

    def supervisord_pid(self) -> int | None:
        try:
            pid = int((self.run_dir / "supervisord.pid").read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def running(self) -> bool:
        return self.supervisord_pid() is not None

    def ctl(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["supervisorctl", "-c", str(self.supervisord_conf), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        # supervisorctl exits non-zero when a program is not RUNNING (status) — not our failure.
        if check and result.returncode != 0 and "ERROR" in result.stdout + result.stderr:
            raise BazaarError(f"supervisorctl {' '.join(args)}: {(result.stdout + result.stderr).strip()}")
        return result.stdout

    def ports_in_use(self) -> list[str]:
        return [f"{name} {port}" for name, port in self.ports.all().items() if config.port_in_use(port)]

    def start(self, changed: set[str] | None = None) -> None:
        """Start supervisord (and with it every program), or start what is stopped.

        CHANGED (from ``render``): configs rewritten while the stack runs are applied — Patroni
        and PgBouncer reload on SIGHUP, HAProxy restarts, supervisord re-reads its programs.
        """
        if self.running():
            changed = changed or set()
            if "supervisord.conf" in changed:
                self.ctl("update")
            for name in NODES:
                if f"{name}.yml" in changed:
                    self.ctl("signal", "HUP", name, check=False)
            if changed & {"pgbouncer.ini", "userlist.txt"}:
                self.ctl("signal", "HUP", "pgbouncer", check=False)
            if "haproxy.cfg" in changed:
                self.ctl("restart", "haproxy")
            self.ctl("start", "all")
            return
        busy = self.ports_in_use()
        if busy:
            raise BazaarError(
                f"cannot start the stack: port(s) in use: {', '.join(busy)}",
                exit_code=EXIT_WRONG_STATE,
                hint="another stack or program holds them; move this one with BAZAAR_PORT_OFFSET",
            )
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        _run(["supervisord", "-c", str(self.supervisord_conf)], "starting supervisord")
        poll(lambda: self.socket.exists() and self.processes(), 30, "supervisord to answer")

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

    def stop(self) -> bool:
        """Stop cleanly: routing first, then the replicas, the leader, etcd, supervisord."""
        pid = self.supervisord_pid()
        if pid is None:
            self._stop_orphans()
            return False
        self.ctl("stop", "pgbouncer", "haproxy", check=False)
        leader = self.leader_name()
        replicas = [n for n in NODES if n != leader]
        self.ctl("stop", *replicas, check=False)
        self.ctl("stop", *(NODES if leader is None else (leader,)), check=False)
        self.ctl("stop", "etcd", check=False)
        self.ctl("shutdown", check=False)
        poll(lambda: self.supervisord_pid() is None, 60, "supervisord to exit")
        self._stop_orphans()
        return True

    def _stop_orphans(self) -> None:
        """A PostgreSQL left behind by a SIGKILLed Patroni: stop it too."""
        for name in NODES:
            pid = _postmaster_pid(self.datadir(name))
            if pid is not None:
                subprocess.run(
                    as_server_user(
                        [str(bindir() / "pg_ctl"), "-D", str(self.datadir(name)), "-m", "fast", "-w", "stop"]
                    ),
                    capture_output=True,
                    check=False,
                    timeout=120,
                    cwd=self.root,
                )

    # -- Patroni's REST API ----------------------------------------------------------------

    def rest(
        self, node: str, method: str, path: str, body: Mapping[str, Any] | None = None, timeout: float = 5
    ) -> tuple[int, str]:
        """(HTTP status, body text) of one REST call to NODE's Patroni."""
        url = f"http://127.0.0.1:{self.ports.patroni(self.node_number(node))}{path}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if method != "GET":
            token = base64.b64encode(f"{REST_USER}:{self.secrets[REST_USER]}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status), response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode(errors="replace")

    def members(self) -> list[Member]:
        """The cluster as the first answering Patroni sees it ([] when none answers)."""
        for name in NODES:
            try:
                status, text = self.rest(name, "GET", "/cluster", timeout=2)
            except OSError:
                continue
            if status == 200:
                return [Member.from_json(m) for m in json.loads(text).get("members", [])]
        return []

    def leader_name(self) -> str | None:
        for m in self.members():
            if m.role == "leader" and m.state == "running":
                return m.name
        return None

    def healthy(self) -> list[Member] | None:
        """The members when there is one running leader and every other node streams from it."""
        members = self.members()
        leaders = [m for m in members if m.role == "leader" and m.state == "running"]
        replicas = [m for m in members if m.role != "leader" and m.state == "streaming"]
        if len(leaders) == 1 and len(replicas) == len(NODES) - 1:
            tl = leaders[0].timeline
            if all(r.timeline == tl for r in replicas) and any(r.role == "sync_standby" for r in replicas):
                return members
        return None

    # -- HAProxy ---------------------------------------------------------------------------

    def routes(self) -> dict[str, list[str]]:
        """The servers HAProxy may send a new connection to, per listener: {'rw': [...], 'ro': [...]}.

        That is every server whose status starts with UP: a server going down still says
        "UP 1/2" after its first failed check and still gets connections, and right after HAProxy
        starts every server is UP before any check ran. A server counts as settled-and-good only
        with a passed check (L7OK) and no other server routable beside it: see routed_to_leader.
        """
        url = f"http://127.0.0.1:{self.ports.stats}/;csv"
        with urllib.request.urlopen(url, timeout=2) as response:
            text = response.read().decode()
        result: dict[str, list[str]] = {"rw": [], "ro": []}
        for row in csv.DictReader(io.StringIO(text.lstrip("# "))):
            if row["pxname"] in result and row["svname"] in NODES and row["status"].startswith("UP"):
                checked = row.get("check_status", "").startswith("L7OK") and row["status"] == "UP"
                result[row["pxname"]].append(row["svname"] if checked else f"{row['svname']}?")
        return result

    def routed_to_leader(self) -> str | None:
        """The leader's name once the rw port leads to it alone and it accepts writes.

        Patroni may call a node the leader (and answer GET /primary) a moment before its
        PostgreSQL has left recovery: a write sent then fails with "read-only transaction".
        """
        leader = self.leader_name()
        if leader and self.routes()["rw"] == [leader] and self._rw_accepts_writes():
            return leader
        return None

    def _rw_accepts_writes(self) -> bool:
        conninfo = loopback_dsn(
            self.ports.rw, "postgres", "postgres", password=self.secrets["postgres"], connect_timeout=2
        )
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                return conn.execute(queries.load("server_in_recovery")).fetchone() == (False,)
        except psycopg.OperationalError:
            return False

    def wait_healthy(self, timeout: float = 180) -> list[Member]:
        """Wait for a leader, two streaming replicas and HAProxy routing agreeing with them.

        While waiting, a node whose Patroni is stuck (see unstick) is restarted.
        """
        stuck_since: dict[str, float] = {}

        def check() -> list[Member] | None:
            members = self.healthy()
            if members is None:
                self.unstick(stuck_since)
                return None
            routes = self.routes()
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
        states = {m.name: m.state for m in self.members()}
        for name in NODES:
            if states.get(name) != "starting" or _postmaster_pid(self.datadir(name)) is not None:
                stuck_since.pop(name, None)
                continue
            first = stuck_since.setdefault(name, now)
            if now - first >= after:
                print(
                    f"warning: {name}'s Patroni has said 'starting' without a PostgreSQL for "
                    f"{now - first:.0f} s; restarting it (docs/runbooks/failover.md)",
                    file=sys.stderr,
                )
                self.ctl("signal", "KILL", name, check=False)
                stuck_since.pop(name, None)
                restarted.append(name)
        return restarted

    # -- PgBouncer console -----------------------------------------------------------------

    @contextlib.contextmanager
    def pgbouncer_console(self) -> Iterator[psycopg.Connection[Any]]:
        conninfo = loopback_dsn(
            self.ports.pgbouncer,
            PGBOUNCER_ADMIN,
            "pgbouncer",
            password=self.secrets[PGBOUNCER_ADMIN],
            connect_timeout=5,
        )
        with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
            yield conn

    @staticmethod
    def console(conn: psycopg.Connection[Any], command: str) -> None:
        """One console command, over the simple query protocol the console requires."""
        result = conn.pgconn.exec_(command.encode())
        if result.status not in (psycopg.pq.ExecStatus.COMMAND_OK, psycopg.pq.ExecStatus.TUPLES_OK):
            message = (result.error_message or b"").decode(errors="replace").strip()
            raise BazaarError(f"PgBouncer {command}: {message}")

    # -- operator commands -----------------------------------------------------------------

    def _require_leader(self) -> str:
        leader = self.leader_name()
        if leader is None:
            raise BazaarError("the cluster has no running leader", exit_code=EXIT_WRONG_STATE)
        return leader

    def sync_standby(self) -> str | None:
        return next((m.name for m in self.members() if m.role == "sync_standby"), None)

    def _patroni_refused(self, what: str, status: int, text: str) -> BazaarError:
        code = EXIT_WRONG_STATE if status in (409, 412, 503) else EXIT_FAILURE
        return BazaarError(f"Patroni refused the {what} (HTTP {status}): {text.strip()}", exit_code=code)

    def switchover(self, candidate: str | None = None, pause_pgbouncer: bool = True) -> dict[str, Any]:
        """Planned switchover that PgBouncer's clients only see as a short wait.

        PAUSE (PgBouncer waits for running transactions, then closes its server connections;
        new queries queue), POST /switchover, wait until HAProxy's rw port leads to the new
        leader alone, RESUME (new server connections go to the new leader). RESUME runs even when
        the switchover fails.
        """
        leader = self._require_leader()
        candidate = candidate or self.sync_standby()
        if candidate is None:
            raise BazaarError("no synchronous standby to switch over to", exit_code=EXIT_WRONG_STATE)
        self.node_number(candidate)
        if candidate == leader:
            raise BazaarError(f"{candidate} is already the leader", exit_code=EXIT_WRONG_STATE)
        started = time.monotonic()
        console = self.pgbouncer_console() if pause_pgbouncer else contextlib.nullcontext(None)
        with console as conn:
            paused_at = time.monotonic()
            if conn is not None:
                self.console(conn, "PAUSE")
                paused_at = time.monotonic()
            # Patroni answers POST /switchover after polling the DCS in whole seconds: run the
            # request in a thread and resume PgBouncer as soon as the routing shows the new leader.
            request = _Background(
                lambda: self.rest(
                    leader, "POST", "/switchover", {"leader": leader, "candidate": candidate}, timeout=60
                )
            )
            try:

                def done() -> bool:
                    if request.finished() and request.result()[0] != 200:
                        status, text = request.result()
                        raise self._patroni_refused("switchover", status, text)
                    return self.routed_to_leader() == candidate

                poll(done, 60, f"HAProxy's read-write port to lead to {candidate}", 0.05, fatal=BazaarError)
                routed_at = time.monotonic()
            finally:
                if conn is not None:
                    self.console(conn, "RESUME")
            resumed_at = time.monotonic()
        status, text = request.result(timeout=60)
        if status != 200:
            raise self._patroni_refused("switchover", status, text)
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
        candidate = candidate or self.sync_standby()
        if candidate is None:
            raise BazaarError("no synchronous standby to fail over to", exit_code=EXIT_WRONG_STATE)
        self.node_number(candidate)
        started = time.monotonic()
        status, text = self.rest(candidate, "POST", "/failover", {"candidate": candidate}, timeout=60)
        if status != 200:
            raise self._patroni_refused("failover", status, text)
        poll(lambda: self.routed_to_leader() == candidate, 30, f"the read-write port to lead to {candidate}")
        return {"to": candidate, "seconds": round(time.monotonic() - started, 3), "patroni": text.strip()}

    def restart(self, node: str, timeout: float = 120) -> dict[str, Any]:
        """Restart NODE's PostgreSQL through Patroni (a leader stays the leader)."""
        self.node_number(node)
        before = _postmaster_pid(self.datadir(node))
        started = time.monotonic()
        status, text = self.rest(node, "POST", "/restart", {}, timeout=timeout)
        if status != 200:
            raise self._patroni_refused("restart", status, text)
        self._wait_new_postmaster(node, before, timeout)
        return {"node": node, "seconds": round(time.monotonic() - started, 3), "patroni": text.strip()}

    def reinit(self, node: str, timeout: float = 180) -> dict[str, Any]:
        """Rebuild a replica's data directory from the leader (Patroni's reinitialize)."""
        self.node_number(node)
        if node == self.leader_name():
            raise BazaarError(f"{node} is the leader: only a replica can be reinitialised", exit_code=6)
        before = _postmaster_pid(self.datadir(node))
        started = time.monotonic()
        status, text = self.rest(node, "POST", "/reinitialize", {"force": True}, timeout=30)
        if status != 200:
            raise self._patroni_refused("reinitialize", status, text)
        # Patroni answers at once and rebuilds in the background: wait for the new server to stream.
        self._wait_new_postmaster(node, before, timeout)
        return {"node": node, "seconds": round(time.monotonic() - started, 3), "patroni": text.strip()}

    def _wait_new_postmaster(self, node: str, before: int | None, timeout: float) -> None:
        """Wait until NODE runs a PostgreSQL other than BEFORE and the cluster is healthy again."""
        poll(
            lambda: _postmaster_pid(self.datadir(node)) not in (None, before),
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
        self.node_number(node)
        datadir = self.datadir(node)
        postmaster = _postmaster_pid(datadir)
        patroni = None if postgres_only else self.program_pid(node)
        if not postgres_only:
            hold = self.run_dir / f"{node}.hold"
            hold.write_text(f"{int(time.time() + down_for)}\n")
            hold.chmod(0o644)
        victims = [p for p in (patroni, postmaster) if p is not None]
        if postmaster is not None:
            victims += _children(postmaster)
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


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        pid = int((datadir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _children(pid: int) -> list[int]:
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
