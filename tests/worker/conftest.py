"""The delivery worker against what it talks to: a migrated database of its own (the worker logs
in as bazaar_worker), a real SMTP server (aiosmtpd) that keeps what it receives, and a stand-in
for Telegram's Bot API and the SMS gateway — a local HTTP server speaking their protocol as
documented (JSON answers, `ok: false` errors, 429 with `retry_after`, 5xx), scripted per chat or
number. The stand-in lives here only; the worker reaches it through its configurable base URL."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from psycopg.conninfo import make_conninfo

from bazaar import migrate
from tests.harness import SQL_DIR, ServerUnderTest, free_port

BOT_TOKEN = "123456:TEST-bot-token-never-logged"
SMS_KEY = "sms-key-never-logged"


@dataclass
class Database:
    admin_dsn: str
    worker_dsn: str

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.admin_dsn, autocommit=True)


@pytest.fixture(scope="module")
def database(server: ServerUnderTest) -> Iterator[Database]:
    with server.scratch_database() as admin_dsn:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
            conn.execute("alter role bazaar_worker login")  # harness only: trust auth on loopback
            conn.execute("update core.settings set value = '4' where key = 'bcrypt_cost'")
        yield Database(admin_dsn, make_conninfo(admin_dsn, user="bazaar_worker"))


@pytest.fixture
def outbox(database: Database) -> Iterator[Database]:
    """An outbox with nothing pending from an earlier test."""
    with database.admin() as conn:
        conn.execute("update core.notifications set delivered_at = now() where delivered_at is null")
    yield database


class Mailbox:
    """aiosmtpd's handler: every message it accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse: set[str] = set()  # recipients answered 550

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class StandIn:
    """Scripted answers per destination (a chat id or a phone): each call takes the next one of
    its script, then `ok` forever. Every request is recorded, in arrival order."""

    port: int
    scripts: dict[str, deque[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000
    delay: float = 0.0  # the provider's response time (seconds), for the benchmark and the crash test

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, destination: str, *answers: tuple[int, dict[str, Any]]) -> None:
        self.scripts[destination].extend(answers)

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        destination = str(body.get("chat_id") or body.get("to"))
        if self.delay:
            time.sleep(self.delay)  # a slow provider, not a synchronisation
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            if self.scripts[destination]:
                return self.scripts[destination].popleft()
            self.next_id += 1
            message_id = self.next_id
        if path.endswith("/sendMessage"):
            if path != f"/bot{BOT_TOKEN}/sendMessage":
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return 200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": body["chat_id"]}}}
        if headers.get("authorization") != f"Bearer {SMS_KEY}":
            return 401, {"error": "unauthorized"}
        return 200, {"id": f"sms-{message_id}"}

    def texts(self, destination: str) -> list[str]:
        return [
            r["body"]["text"]
            for r in self.requests
            if str(r["body"].get("chat_id") or r["body"].get("to")) == destination
        ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer = self.server.standin.answer(self.path, headers, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        if status == 429 and "parameters" not in answer:
            self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn


@contextlib.contextmanager
def running_standin(delay: float = 0.0) -> Iterator[StandIn]:
    """The stand-in on a free loopback port, answering after DELAY seconds, until the block ends."""
    port = free_port()
    httpd = _Server(("127.0.0.1", port), _Handler)
    httpd.standin = StandIn(port, delay=delay)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.standin
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with running_standin() as running:
        yield running
