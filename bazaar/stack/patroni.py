"""Patroni: its DCS timing, and its REST API (the cluster's members, its leader, its health, and
the POST endpoints the operator commands call).

Patroni does the work; bazaar only asks it and waits (bazaar/stack/cluster.py).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bazaar import config
from bazaar.errors import EXIT_FAILURE, EXIT_WRONG_STATE, BazaarError
from bazaar.stack.layout import NODES, node_number
from bazaar.stack.users import REST_USER


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


def refused(what: str, status: int, text: str) -> BazaarError:
    """The error for a POST Patroni answered with STATUS: a wrong state (exit 6) or a failure."""
    code = EXIT_WRONG_STATE if status in (409, 412, 503) else EXIT_FAILURE
    return BazaarError(f"Patroni refused the {what} (HTTP {status}): {text.strip()}", exit_code=code)


# Settings of the DCS config a running cluster is brought to by `bazaar up` (bootstrap.dcs of
# patroni/patroni.yml applies once, when the cluster is first initialised): what a cluster made
# before them lacks. failsafe_mode: ADR 0023.
DCS_SETTINGS: Mapping[str, Any] = {"failsafe_mode": True}


@dataclass(frozen=True)
class PatroniAPI:
    """The REST APIs of the nodes' Patronis; SECRETS holds the password of REST_USER (POSTs)."""

    ports: config.Ports
    secrets: Mapping[str, str] = field(repr=False)

    def rest(
        self, node: str, method: str, path: str, body: Mapping[str, Any] | None = None, timeout: float = 5
    ) -> tuple[int, str]:
        """(HTTP status, body text) of one REST call to NODE's Patroni."""
        url = f"http://127.0.0.1:{self.ports.patroni(node_number(node))}{path}"
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

    def pending_restart(self) -> list[str]:
        """The nodes whose PostgreSQL waits for a restart to take a changed setting."""
        pending = []
        for node in NODES:
            status, text = self.rest(node, "GET", "/patroni")
            if status == 200 and json.loads(text).get("pending_restart"):
                pending.append(node)
        return pending

    def ensure_settings(self, leader: str, wanted: Mapping[str, Any] = DCS_SETTINGS) -> list[str]:
        """PATCH the DCS config through LEADER where it differs from WANTED; the keys changed."""
        status, text = self.rest(leader, "GET", "/config")
        if status != 200:
            raise refused("reading the DCS config", status, text)
        current = json.loads(text)
        changes = {key: value for key, value in wanted.items() if current.get(key) != value}
        if changes:
            status, text = self.rest(leader, "PATCH", "/config", changes)
            if status != 200:
                raise refused("changing the DCS config", status, text)
        return sorted(changes)

    def sync_standby(self) -> str | None:
        return next((m.name for m in self.members() if m.role == "sync_standby"), None)

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
