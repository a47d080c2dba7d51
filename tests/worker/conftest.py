"""The delivery worker against what it talks to: a migrated database of its own (the worker logs
in as bazaar_worker), a real SMTP server (aiosmtpd) that keeps what it receives, and a stand-in
for Telegram's Bot API and the SMS gateway — a local HTTP server speaking their protocol as
documented (JSON answers, `ok: false` errors, 429 with `retry_after`, 5xx), scripted per chat or
number. The stand-in lives here only; the worker reaches it through its configurable base URL."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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
    its script, then the provider's own answer. Every request is recorded, in arrival order.

    The Bot API side keeps each chat's messages as Telegram would: sendMessage and sendPhoto add
    one, editMessageText/Caption/Media change one (400 when it does not exist, has no text or no
    caption, or would not change), and getUpdates long-polls the updates `says`/`shares_contact`
    queue, confirming those below its offset."""

    port: int
    scripts: dict[str, deque[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000
    delay: float = 0.0  # the provider's response time (seconds), for the benchmark and the crash test
    chats: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    updates: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, destination: str, *answers: tuple[int, dict[str, Any]]) -> None:
        self.scripts[destination].extend(answers)

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path.startswith("/bot") and path != f"/bot{BOT_TOKEN}/{path.rsplit('/', 1)[-1]}":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if path.endswith("/getUpdates"):
            return self._get_updates(body)
        destination = str(body.get("chat_id") or body.get("to"))
        if self.delay:
            time.sleep(self.delay)  # a slow provider, not a synchronisation
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body, "at": time.monotonic()})
            if self.scripts[destination]:
                return self.scripts[destination].popleft()
            if path.startswith("/bot"):
                return self._telegram(path.rsplit("/", 1)[-1], destination, body)
            self.next_id += 1
            message_id = self.next_id
        if headers.get("authorization") != f"Bearer {SMS_KEY}":
            return 401, {"error": "unauthorized"}
        return 200, {"id": f"sms-{message_id}"}

    def _telegram(self, method: str, chat: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        def bad(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}

        if method in ("sendMessage", "sendPhoto"):
            self.next_id += 1
            shown = {"text": body.get("text") or body.get("caption"), "photo": body.get("photo")}
            self.chats[chat][self.next_id] = shown
            return 200, {"ok": True, "result": {"message_id": self.next_id, "chat": {"id": body["chat_id"]}}}
        if method not in ("editMessageText", "editMessageCaption", "editMessageMedia"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        message = self.chats[chat].get(int(body.get("message_id") or 0))
        if message is None:
            return bad("message to edit not found")
        if method == "editMessageText" and message["photo"]:
            return bad("there is no text in the message to edit")
        if method == "editMessageCaption" and not message["photo"]:
            return bad("there is no caption in the message to edit")
        media = body.get("media") or {}
        new = {
            "text": body.get("text") or body.get("caption") or media.get("caption"),
            "photo": media.get("media") or message["photo"],
        }
        if new == message:
            return bad(
                "message is not modified: specified new message content and reply markup are exactly the same"
            )
        message.update(new)
        return 200, {
            "ok": True,
            "result": {"message_id": body["message_id"], "chat": {"id": body["chat_id"]}},
        }

    def _get_updates(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(body.get("offset") or 0)
        deadline = time.monotonic() + min(float(body.get("timeout") or 0), 5.0)
        with self.arrived:
            self.polls += 1
            self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed
            while not self.updates and self.arrived.wait(max(deadline - time.monotonic(), 0)):
                pass
            return 200, {"ok": True, "result": list(self.updates)}

    def _update(self, chat_id: int, **message: Any) -> None:
        with self.lock:
            self.next_id += 1
            update_id = self.next_id
        with self.arrived:
            sender = {"id": chat_id, "is_bot": False, "first_name": "Тест"}
            self.updates.append({
                "update_id": update_id,
                "message": {
                    "message_id": update_id, "from": sender, "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}, **message,
                },
            })  # fmt: skip
            self.arrived.notify_all()

    def says(self, chat_id: int, text: str) -> None:
        """A person writes TEXT to the bot from chat CHAT_ID (their Telegram user id)."""
        self._update(chat_id, text=text)

    def shares_contact(self, chat_id: int, phone: str, contact_user_id: int | None = None) -> None:
        """A person shares a contact with the bot: their own unless CONTACT_USER_ID says whose."""
        contact = {"phone_number": phone, "first_name": "Тест", "user_id": contact_user_id or chat_id}
        self._update(chat_id, contact=contact)

    def pending_updates(self) -> int:
        with self.arrived:
            return len(self.updates)

    def texts(self, destination: str) -> list[str]:
        return [
            r["body"].get("text") or r["body"].get("caption")
            for r in self.requests
            if str(r["body"].get("chat_id") or r["body"].get("to")) == destination
        ]

    def calls(self, destination: str) -> list[str]:
        """The methods called for DESTINATION, in order (sendMessage, editMessageText, …)."""
        return [
            r["path"].rsplit("/", 1)[-1]
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


def worker_environment(db: Database, standin: StandIn, directory: Path) -> dict[str, str]:
    """The environment of a `bazaar worker` process delivering Telegram through the stand-in: the
    worker's DSN, the stand-in's URL, and the bot token in a 0600 file under DIRECTORY."""
    token = directory / "bot-token"
    token.write_text(BOT_TOKEN)
    token.chmod(0o600)
    return {
        **os.environ,
        "BAZAAR_WORKER_DSN": db.worker_dsn,
        "BAZAAR_TELEGRAM_API": standin.url,
        "BAZAAR_TELEGRAM_TOKEN_FILE": str(token),
    }
