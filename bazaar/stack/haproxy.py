"""HAProxy: its config (one template for the local stack and docker-compose.yml), and which
servers its read-write and read-only ports may send a connection to.

    python -m bazaar.stack.haproxy    # rewrite patroni/compose/haproxy.cfg from the template
"""

from __future__ import annotations

import csv
import io
import urllib.request
from collections.abc import Sequence

from bazaar import config
from bazaar.stack.layout import NODES
from bazaar.stack.templates import render_template

TEMPLATE = "patroni/haproxy.cfg"
COMPOSE_CONFIG = "patroni/compose/haproxy.cfg"
COMPOSE_HEADER = """\
# HAProxy for docker-compose.yml: patroni/haproxy.cfg with the containers' names and ports.
# Generated, do not edit: change the template, then run `python -m bazaar.stack.haproxy`.
"""


def config_text(address: str, ports: config.Ports, servers: Sequence[tuple[str, str, int]]) -> str:
    """The template for listeners bound to ADDRESS on PORTS' rw, ro and stats ports, in front of
    SERVERS: (name, host:port of its PostgreSQL, port of its Patroni REST API) each."""
    lines = "\n".join(f"    server {name} {target} check port {check}" for name, target, check in servers)
    return render_template(
        TEMPLATE,
        address=address,
        rw_port=ports.rw,
        ro_port=ports.ro,
        stats_port=ports.stats,
        servers=lines,
    )


def local_config(ports: config.Ports) -> str:
    """The local stack's: everything on 127.0.0.1."""
    servers = [(name, f"127.0.0.1:{ports.postgres(n)}", ports.patroni(n)) for n, name in enumerate(NODES, 1)]
    return config_text("127.0.0.1", ports, servers)


def compose_config() -> str:
    """docker-compose.yml's: the default ports on every interface of the container, in front of the
    node containers (each with PostgreSQL on 5432 and Patroni on 8008, patroni/compose/patroni.yml)."""
    text = config_text("*", config.Ports(0), [(name, f"{name}:5432", 8008) for name in NODES])
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):  # the template's own header speaks of the local stack
        lines.pop(0)
    return COMPOSE_HEADER + "".join(lines)


def routes(ports: config.Ports) -> dict[str, list[str]]:
    """The servers HAProxy may send a new connection to, per listener: {'rw': [...], 'ro': [...]}.

    That is every server whose status starts with UP: a server going down still says
    "UP 1/2" after its first failed check and still gets connections, and right after HAProxy
    starts every server is UP before any check ran. A server counts as settled-and-good only
    with a passed check (L7OK) and no other server routable beside it: see
    Cluster.routed_to_leader.
    """
    url = f"http://127.0.0.1:{ports.stats}/;csv"
    with urllib.request.urlopen(url, timeout=2) as response:
        text = response.read().decode()
    result: dict[str, list[str]] = {"rw": [], "ro": []}
    for row in csv.DictReader(io.StringIO(text.lstrip("# "))):
        if row["pxname"] in result and row["svname"] in NODES and row["status"].startswith("UP"):
            checked = row.get("check_status", "").startswith("L7OK") and row["status"] == "UP"
            result[row["pxname"]].append(row["svname"] if checked else f"{row['svname']}?")
    return result


if __name__ == "__main__":
    (config.project_root() / COMPOSE_CONFIG).write_text(compose_config())
