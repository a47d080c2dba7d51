"""HAProxy: which servers its read-write and read-only ports may send a connection to."""

from __future__ import annotations

import csv
import io
import urllib.request

from bazaar import config
from bazaar.stack.layout import NODES


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
