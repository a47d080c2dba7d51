"""Alertmanager's webhook receiver: what fires or resolves becomes an ``operator_alert``
notification to every admin, queued in the outbox by ``api.queue_operator_alerts`` (as
bazaar_worker), so it reaches them on their channels the way every notification does.

The supervisord program ``alert-receiver`` (as postgres, from the package copy in the server
root). Alertmanager retries a webhook that fails with 5xx, not one refused with 4xx: a database
that cannot be reached is 503 (tried again), a malformed alert 400 (it would never succeed). It
logs JSON lines: counts, and the names of the alerts the database accepted; never an alert's text
or a password.

    python -m bazaar.monitoring.receiver --listen 127.0.0.1:9095 --dsn DSN
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bazaar import request
from bazaar.jsonlog import log

MAX_BODY = 1 << 20  # Alertmanager sends at most 50 alerts per call (max_alerts); far below this


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], dsn: str) -> None:
        super().__init__(address, Handler)
        self.dsn = dsn

    def queue(self, alerts: Any, request_id: str) -> int:
        """Queue the alerts as one call named `alert-receiver/REQUEST_ID`: the notifications
        carry the id (core.notifications.request_id), as this program's log line does."""
        name = f"alert-receiver/{request_id}"
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5, application_name=name) as conn:
            row = conn.execute("select api.queue_operator_alerts(%s)", [Jsonb(alerts)]).fetchone()
        return int(row[0]) if row else 0


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_GET(self) -> None:
        if self.path == "/-/healthy":
            self._reply(200, "ok")
        else:
            self._reply(404, "not found")

    def do_POST(self) -> None:
        if self.path != "/alerts":
            self._reply(404, "not found")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if not 0 < length <= MAX_BODY:
            self._reply(413 if length else 400, "a JSON body of at most 1 MiB")
            return
        try:
            body = json.loads(self.rfile.read(length))
            alerts = body["alerts"]
            names = sorted({str(a["labels"]["alertname"]) for a in alerts})[:20]
        except (ValueError, KeyError, TypeError) as exc:
            log("warning", "refused a webhook that is not Alertmanager's", error=type(exc).__name__)
            self._reply(400, "expected Alertmanager's webhook JSON")
            return
        request_id = request.new()
        try:
            queued = self.server.queue(alerts, request_id)
        except psycopg.errors.InvalidParameterValue as exc:
            # not their names: only what the database accepted is logged
            log(
                "warning",
                "the database refused the alerts",
                count=len(names),
                sqlstate=exc.sqlstate,
                request_id=request_id,
            )
            self._reply(400, "malformed alerts")
            return
        except psycopg.Error as exc:
            log(
                "error",
                "cannot queue the alerts; Alertmanager will retry",
                alerts=names,
                error=type(exc).__name__,
                request_id=request_id,
            )
            self._reply(503, "the database is unavailable")
            return
        log(
            "info",
            "queued",
            status=body.get("status"),
            alerts=names,
            notifications=queued,
            request_id=request_id,
        )
        self._reply(200, f"queued {queued}")

    def _reply(self, status: int, text: str) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: each request logs one JSON line of its own."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bazaar-alert-receiver", description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--dsn", required=True, help="as bazaar_worker, with a passfile")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    server = Receiver((host, int(port)), args.dsn)
    log("info", "alert receiver listening", listen=args.listen)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
