"""The programs supervisord runs, one entry each in PROGRAMS, and the files rendered for them into
the server root's ``conf/``.

Every program runs as the server user, with its log in ``log/<name>.log``. Its entry says how
`bazaar status` shows it, which template holds its ``[program:…]`` section, which files of
``conf/`` it reads (rendered on every `bazaar up`; when one changes on a running stack the program
is sent SIGHUP or restarted) and which directories of the server root it writes.

Adding a program (an exporter, a worker):

1. its ``[program:${name}]`` section as a template (``patroni/supervisord-haproxy.conf`` is one to
   copy): the placeholders of Context.common() plus ``${name}`` are filled in, and any others
   the entry's ``values`` gives;
2. an entry in PROGRAMS, in start order (supervisord's ``priority`` in the section agrees), with
   its config files (``ConfigFile``: a name in conf/ and the function that renders it) if it has
   any; ``_prometheus()`` below is one to copy.

If it listens on a port, that port goes into config.Ports too, so it moves with
BAZAAR_PORT_OFFSET and `bazaar up` checks it is free before starting. The stack then renders,
starts, reloads, stops (programs after the nodes first, in reverse order) and lists it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from bazaar import config
from bazaar.backup import schedule as backup_schedule
from bazaar.backup import settings as backup
from bazaar.db import loopback_dsn
from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError
from bazaar.monitoring import configs as monitoring_configs
from bazaar.stack import code, etcd, haproxy
from bazaar.stack.host import bindir, make_server_dir, write_server_file
from bazaar.stack.layout import NODES
from bazaar.stack.pgbouncer import AUTH_FILE, auth_file
from bazaar.stack.templates import Context
from bazaar.stack.users import (
    BACKUP_KEY,
    MONITOR,
    PGBOUNCER_ADMIN,
    REPLICATION_USER,
    REST_USER,
    REWIND_USER,
    SUPERUSER,
    WORKER,
)


@dataclass(frozen=True)
class ConfigFile:
    """A file of conf/ and the function that renders its text."""

    name: str
    text: Callable[[Context], str]
    mode: int = 0o600  # owned by the server user; most hold passwords or paths to them


def _no_values(_ctx: Context) -> Mapping[str, object]:
    return {}


@dataclass(frozen=True)
class Program:
    """One program under supervisord."""

    name: str  # supervisord's name for it, its log file log/NAME.log, its row in `bazaar status`
    title: str  # for people: "starting supervisord: etcd, 3 Patroni nodes, …"
    section: str  # the template of its [program:NAME] section, a path in the checkout
    listen: Callable[[config.Ports], str]  # what `bazaar status` shows it listening on
    values: Callable[[Context], Mapping[str, object]] = _no_values  # placeholders of SECTION
    configs: tuple[ConfigFile, ...] = ()  # the files of conf/ it reads
    dirs: tuple[str, ...] = ()  # directories of the server root it writes in (made 0700)
    reload: Literal["hup", "restart"] = "hup"  # how it takes a changed config: SIGHUP or a restart

    def reads(self) -> set[str]:
        return {f.name for f in self.configs}


# -- the programs ------------------------------------------------------------------------------


ETCD_DIR = "etcd"  # in the server root: a data directory per member, etcd/etcd1 …


def _etcd_member(m: int, name: str) -> Program:
    """Member M, NAME, of the three-member etcd cluster (a quorum of two survives one lost member)."""

    def values(ctx: Context) -> Mapping[str, object]:
        peers = (
            f"{peer}=http://127.0.0.1:{ctx.ports.etcd_peer(n)}" for n, peer in enumerate(etcd.MEMBERS, 1)
        )
        return {
            "etcd_dir": ctx.root.path / ETCD_DIR / name,
            "etcd_port": ctx.ports.etcd(m),
            "etcd_peer_port": ctx.ports.etcd_peer(m),
            "initial_cluster": ",".join(peers),
        }

    return Program(
        name=name,
        title="etcd member",
        section="patroni/supervisord-etcd.conf",
        listen=lambda ports: f"127.0.0.1:{ports.etcd(m)}",
        values=values,
        dirs=(ETCD_DIR, f"{ETCD_DIR}/{name}"),
    )


def _patroni_node(n: int, name: str) -> Program:
    def patroni_yml(ctx: Context) -> str:
        return ctx.render(
            "patroni/patroni.yml",
            name=name,
            rest_port=ctx.ports.patroni(n),
            rest_user=REST_USER,
            rest_password=ctx.secrets[REST_USER],
            etcd_hosts=ctx.ports.etcd_endpoints,
            ttl=ctx.timing.ttl,
            loop_wait=ctx.timing.loop_wait,
            retry_timeout=ctx.timing.retry_timeout,
            primary_start_timeout=ctx.timing.primary_start_timeout,
            pg_port=ctx.ports.postgres(n),
            data_dir=ctx.root.datadir(name),
            bin_dir=bindir(),
            node_dir=ctx.root.path / name,
            superuser_password=ctx.secrets[SUPERUSER],
            replication_password=ctx.secrets[REPLICATION_USER],
            rewind_password=ctx.secrets[REWIND_USER],
            socket_dir=backup.SOCKET_DIR,
            pgbackrest=backup.node_command(ctx.root, name),
            pg_log_dir=ctx.root.log_dir / f"postgresql-{name}",
        )

    return Program(
        name=name,
        title="Patroni node",
        section="patroni/supervisord-node.conf",  # runs Patroni through run-patroni.sh (SCRIPTS)
        listen=lambda ports: f"pg :{ports.postgres(n)}  rest :{ports.patroni(n)}",
        values=lambda ctx: {"patroni": ctx.daemon_bin / "patroni"},
        configs=(ConfigFile(f"{name}.yml", patroni_yml),),
        dirs=(name, f"{name}/backup-spool", f"{name}/backup-lock", f"log/postgresql-{name}"),
    )


def _haproxy() -> Program:
    return Program(
        name="haproxy",
        title="HAProxy",
        section="patroni/supervisord-haproxy.conf",
        listen=lambda ports: f"rw :{ports.rw}  ro :{ports.ro}  stats :{ports.stats}",
        configs=(ConfigFile("haproxy.cfg", lambda ctx: haproxy.local_config(ctx.ports)),),
        reload="restart",  # HAProxy re-reads its config only when it starts
    )


def _pgbouncer() -> Program:
    def pgbouncer_ini(ctx: Context) -> str:
        return ctx.render(
            "patroni/pgbouncer.ini",
            rw_port=ctx.ports.rw,
            ro_port=ctx.ports.ro,
            pgbouncer_port=ctx.ports.pgbouncer,
            admin_user=PGBOUNCER_ADMIN,
        )

    return Program(
        name="pgbouncer",
        title="PgBouncer",
        section="patroni/supervisord-pgbouncer.conf",
        listen=lambda ports: f"127.0.0.1:{ports.pgbouncer}",
        configs=(
            ConfigFile("pgbouncer.ini", pgbouncer_ini),
            ConfigFile(AUTH_FILE, lambda ctx: auth_file(ctx.root.conf_dir, ctx.secrets)),
        ),
    )


BACKUP_PGPASS = "backup-pgpass"  # in conf/: the scheduler's passfile


def _code_digest(ctx: Context) -> str:
    """The package's digest; refreshes the copy the stack's Python programs run from."""
    text = code.digest()
    code.install(ctx.root, text)
    return text


# a program run from the package copy lists it: a changed package restarts it
CODE = ConfigFile(code.DIGEST_FILE, _code_digest)


def _python(ctx: Context) -> dict[str, object]:
    """The placeholders of a program of ours: the daemon venv's Python and the package copy."""
    return {"python": ctx.daemon_bin / "python", "lib_dir": code.lib_dir(ctx.root)}


def _pgpass(name: str, user: str) -> ConfigFile:
    """A passfile in conf/ holding USER's password, for a program that logs in as USER."""
    return ConfigFile(name, lambda ctx: f"*:*:*:{user}:{ctx.secrets[user]}\n")


def _backup_scheduler() -> Program:
    def values(ctx: Context) -> Mapping[str, object]:
        pgpass = ctx.root.conf_dir / BACKUP_PGPASS
        return _python(ctx) | {
            "dsn": loopback_dsn(ctx.ports.rw, SUPERUSER, config.DATABASE, passfile=str(pgpass)),
            "pgpass": pgpass,
            "policy": backup_schedule.Policy.parse(os.environ.get("BAZAAR_BACKUP_SCHEDULE", "")),
        }

    return Program(
        name="backup-scheduler",
        title="the backup scheduler",
        section="backup/supervisord-scheduler.conf",
        listen=lambda _ports: "-",
        values=values,
        configs=(
            CODE,
            # the superuser's password (which the Patroni configs beside it hold too): the scheduler
            # records its runs in ops.backup_runs and reads its verification copies
            _pgpass(BACKUP_PGPASS, SUPERUSER),
        ),
        reload="restart",
    )


MONITOR_PASSWORD = "monitor-password"  # noqa: S105 (a file name) in conf/: bazaar_monitor's password, for postgres_exporter
EXPORTER_QUERIES = "postgres-exporter-queries.yaml"
PROMETHEUS_RULES = "prometheus-rules.yml"


def _postgres_exporter(n: int, name: str) -> Program:
    def values(ctx: Context) -> Mapping[str, object]:
        return {
            "port": ctx.ports.postgres_exporter(n),
            "pg_port": ctx.ports.postgres(n),
            "node": name,
            "password_file": MONITOR_PASSWORD,
        }

    def queries(_ctx: Context) -> str:
        return (config.project_root() / "monitoring/postgres-exporter/queries.yaml").read_text()

    return Program(
        name=f"postgres-exporter-{name}",
        title="postgres_exporter",
        section="monitoring/supervisord-postgres-exporter.conf",
        listen=lambda ports: f"127.0.0.1:{ports.postgres_exporter(n)}",
        values=values,
        configs=(
            ConfigFile(MONITOR_PASSWORD, lambda ctx: ctx.secrets[MONITOR]),
            ConfigFile(EXPORTER_QUERIES, queries),
        ),
        reload="restart",  # it reads its queries when it starts
    )


MONITOR_PGPASS = "monitor-pgpass"  # in conf/: bazaar_monitor's passfile, for the marketplace exporter


def _python_service(
    name: str,
    title: str,
    port: Callable[[config.Ports], int],
    user: str,
    passfile: str,
    dsns: Callable[[config.Ports, str], Mapping[str, str]],
) -> Program:
    """A program of ours (monitoring/supervisord-NAME.conf) listening on PORT, logging in as USER
    with the passfile PASSFILE of conf/; DSNS: its DSN placeholders, from the ports and that path."""

    def values(ctx: Context) -> Mapping[str, object]:
        pgpass = str(ctx.root.conf_dir / passfile)
        return _python(ctx) | {"port": port(ctx.ports)} | dict(dsns(ctx.ports, pgpass))

    return Program(
        name=name,
        title=title,
        section=f"monitoring/supervisord-{name}.conf",
        listen=lambda ports: f"127.0.0.1:{port(ports)}",
        values=values,
        configs=(CODE, _pgpass(passfile, user)),
        reload="restart",
    )


def _marketplace_exporter() -> Program:
    return _python_service(
        "marketplace-exporter",
        "the marketplace exporter",
        lambda ports: ports.marketplace_exporter,
        MONITOR,
        MONITOR_PGPASS,
        lambda ports, pgpass: {
            "dsn": loopback_dsn(ports.rw, MONITOR, config.DATABASE, passfile=pgpass),
            "replica_dsn": loopback_dsn(ports.ro, MONITOR, config.DATABASE, passfile=pgpass),
        },
    )


PGBOUNCER_EXPORTER_PGPASS = "pgbouncer-exporter-pgpass"  # in conf/: bazaar_monitor's, for PgBouncer's console


def _pgbouncer_exporter() -> Program:
    return _python_service(
        "pgbouncer-exporter",
        "the PgBouncer exporter",
        lambda ports: ports.pgbouncer_exporter,
        MONITOR,
        PGBOUNCER_EXPORTER_PGPASS,
        lambda ports, pgpass: {
            "dsn": loopback_dsn(ports.pgbouncer, MONITOR, "pgbouncer", passfile=pgpass),
        },
    )


def _node_exporter() -> Program:
    return Program(
        name="node-exporter",
        title="node_exporter",
        section="monitoring/supervisord-node-exporter.conf",
        listen=lambda ports: f"127.0.0.1:{ports.node_exporter}",
        values=lambda ctx: {"port": ctx.ports.node_exporter, "metrics_dir": ctx.root.metrics_dir},
        dirs=("run/metrics",),  # ServerRoot.metrics_dir
    )


RECEIVER_PGPASS = "alert-receiver-pgpass"  # in conf/: bazaar_worker's password for the receiver


def _alert_receiver() -> Program:
    return _python_service(
        "alert-receiver",
        "the alert receiver",
        lambda ports: ports.alert_receiver,
        WORKER,
        RECEIVER_PGPASS,
        lambda ports, pgpass: {"dsn": loopback_dsn(ports.rw, WORKER, config.DATABASE, passfile=pgpass)},
    )


def _mail_sink() -> Program:
    return Program(
        name="mail-sink",
        title="the mail sink",
        section="worker/supervisord-mail-sink.conf",
        listen=lambda ports: f"127.0.0.1:{ports.mail_sink}",
        values=lambda ctx: _python(ctx) | {"port": ctx.ports.mail_sink, "mail_dir": ctx.root.mail_dir},
        configs=(CODE,),
        dirs=("mail",),  # ServerRoot.mail_dir
        reload="restart",
    )


DELIVERY_PGPASS = "delivery-worker-pgpass"  # in conf/: bazaar_worker's password for the delivery worker
# what `bazaar up` passes on to the delivery worker when it is set: Telegram and SMS (ADR 0018)
DELIVERY_ENVIRONMENT = (
    "BAZAAR_TELEGRAM_TOKEN_FILE",
    "BAZAAR_TELEGRAM_API",
    "BAZAAR_PHOTO_URL",
    "BAZAAR_LISTING_URL",
    "BAZAAR_SMS_URL",
    "BAZAAR_SMS_KEY_FILE",
)


def _delivery_worker() -> Program:
    def values(ctx: Context) -> Mapping[str, object]:
        pgpass = str(ctx.root.conf_dir / DELIVERY_PGPASS)
        passed = {key: os.environ[key] for key in DELIVERY_ENVIRONMENT if os.environ.get(key)}
        for key, value in passed.items():  # into supervisord's environment line (an INI file)
            if any(ord(c) < 32 or ord(c) == 127 or c in "\"'\\%" for c in value):
                raise BazaarError(
                    f"{key} may not hold a control character, a quote, a backslash or %",
                    exit_code=EXIT_BAD_ARGUMENT,
                )
        extra = "".join(f',{key}="{value}"' for key, value in passed.items())
        return _python(ctx) | {
            "dsn": loopback_dsn(ctx.ports.pgbouncer, WORKER, config.DATABASE, passfile=pgpass),
            "mail_port": ctx.ports.mail_sink,
            "channels_env": extra,
        }

    return Program(
        name="delivery-worker",
        title="the delivery worker",
        section="worker/supervisord-delivery-worker.conf",
        listen=lambda _ports: "-",
        values=values,
        configs=(CODE, _pgpass(DELIVERY_PGPASS, WORKER)),
        reload="restart",
    )


def _alertmanager() -> Program:
    def alertmanager_yml(ctx: Context) -> str:
        return monitoring_configs.alertmanager_yml(f"127.0.0.1:{ctx.ports.alert_receiver}")

    return Program(
        name="alertmanager",
        title="Alertmanager",
        section="monitoring/supervisord-alertmanager.conf",
        listen=lambda ports: f"127.0.0.1:{ports.alertmanager}",
        values=lambda ctx: {"port": ctx.ports.alertmanager, "storage_dir": ctx.root.path / "alertmanager"},
        configs=(ConfigFile("alertmanager.yml", alertmanager_yml),),
        dirs=("alertmanager",),  # silences and the notification log
    )


def _prometheus() -> Program:
    def prometheus_yml(ctx: Context) -> str:
        targets = monitoring_configs.Targets.local(ctx.ports)
        return monitoring_configs.prometheus_yml(targets, str(ctx.root.conf_dir / PROMETHEUS_RULES))

    def rules(_ctx: Context) -> str:
        return (config.project_root() / "monitoring/prometheus/rules/bazaar.yml").read_text()

    return Program(
        name="prometheus",
        title="Prometheus",
        section="monitoring/supervisord-prometheus.conf",
        listen=lambda ports: f"127.0.0.1:{ports.prometheus}",
        values=lambda ctx: {"port": ctx.ports.prometheus, "tsdb_dir": ctx.root.path / "prometheus"},
        configs=(ConfigFile("prometheus.yml", prometheus_yml), ConfigFile(PROMETHEUS_RULES, rules)),
        dirs=("prometheus",),  # its TSDB
    )


# In start order: supervisord's priorities in the sections agree.
PROGRAMS: tuple[Program, ...] = (
    *(_etcd_member(m, name) for m, name in enumerate(etcd.MEMBERS, start=1)),
    *(_patroni_node(n, name) for n, name in enumerate(NODES, start=1)),
    _haproxy(),
    _pgbouncer(),
    _backup_scheduler(),
    _mail_sink(),
    _delivery_worker(),
    *(_postgres_exporter(n, name) for n, name in enumerate(NODES, start=1)),
    _marketplace_exporter(),
    _pgbouncer_exporter(),
    _node_exporter(),
    _alert_receiver(),
    _alertmanager(),
    _prometheus(),
)


def _pgbackrest_conf(ctx: Context) -> str:
    ports = {name: ctx.ports.postgres(n) for n, name in enumerate(NODES, start=1)}
    return ctx.render(
        "backup/pgbackrest.conf",
        **backup.conf_sections(ctx.root, ports, ctx.secrets[BACKUP_KEY]),
    )


# Files the programs' commands read when they run (a script, pgBackRest's config): written beside
# the configs; a changed one needs no reload.
SCRIPTS = (
    ConfigFile(
        "run-patroni.sh", lambda _ctx: (config.project_root() / "patroni/run-patroni.sh").read_text(), 0o755
    ),
    ConfigFile(backup.conf_path_name(), _pgbackrest_conf),
)
# Directories of the server root no single program owns: pgBackRest's (backup/pgbackrest.conf)
SHARED_DIRS = ("backup", "backup/spool", "log/pgbackrest", "run/pgbackrest")


def summary() -> str:
    """The programs for a person, in start order: "etcd, 3 Patroni nodes, HAProxy, PgBouncer"."""
    parts = []
    for title, group in itertools.groupby(PROGRAMS, key=lambda p: p.title):
        count = len(list(group))
        parts.append(title if count == 1 else f"{count} {title}s")
    return ", ".join(parts)


# -- rendering ---------------------------------------------------------------------------------


def supervisord_conf(ctx: Context) -> str:
    """supervisord.conf: patroni/supervisord.conf with every program's section."""
    sections = [ctx.render(p.section, name=p.name, **p.values(ctx)) for p in PROGRAMS]
    # Sections are one blank line apart, and two after the last Patroni node: the file exactly as
    # earlier versions rendered it, so that `bazaar up` finds a running stack's copy unchanged and
    # reloads nothing. The extra line can go with the next change to the programs.
    sections[max(i for i, p in enumerate(PROGRAMS) if p.name in NODES)] += "\n"
    return ctx.render(
        "patroni/supervisord.conf", socket=ctx.root.socket, programs="\n".join(sections).rstrip("\n")
    )


def write_configs(ctx: Context) -> set[str]:
    """Make the server root's directories and write every file of conf/; the names that changed."""
    root = ctx.root
    for directory, mode in ((root.conf_dir, 0o700), (root.run_dir, 0o755), (root.log_dir, 0o700)):
        make_server_dir(directory, mode)
    for log in (f for f in root.log_dir.iterdir() if f.is_file()):
        log.chmod(0o600)  # logs written before supervisord's umask was 077
    for name in (*SHARED_DIRS, *(d for program in PROGRAMS for d in program.dirs)):
        make_server_dir(root.path / name, 0o700)
    for repository in backup.repositories(root):
        make_server_dir(repository, 0o700)
    make_server_dir(backup.SOCKET_DIR, 0o2775)
    changed = set()
    for file in (f for p in PROGRAMS for f in p.configs):
        if write_server_file(root.conf_dir / file.name, file.text(ctx), file.mode):
            changed.add(file.name)
    for script in SCRIPTS:
        write_server_file(root.conf_dir / script.name, script.text(ctx), script.mode)
    if write_server_file(root.supervisord_conf, supervisord_conf(ctx)):
        changed.add(root.supervisord_conf.name)
    return changed
