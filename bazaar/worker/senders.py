"""The channels a notification leaves through: e-mail over SMTP, Telegram through the Bot API, SMS
through an HTTP gateway. Each sender returns the provider's message id, or raises Transient (worth
trying again, maybe after the provider's own retry_after) or Permanent (the address or chat will
never take it: set aside at once). docs/adr/0018-notification-delivery.md.

No error text carries a secret: the bot token sits in the Bot API's URL, so every text that could
hold a URL goes through `redact()`.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import httpx

from bazaar.errors import one_line
from bazaar.worker.messages import Message, Post

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_RETRY_AFTER = 86400  # what api.fail_notification accepts
# an address the mail headers carry as one recipient: no separators, brackets, quotes or spaces
_ONE_ADDRESS = re.compile(r"[^@\s,;:<>()\[\]\\\"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+")


class Transient(Exception):
    """Worth trying again (after RETRY_AFTER seconds, when the provider said)."""

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Permanent(Exception):
    """This address or chat will never take it: set it aside at once."""


class Sender(Protocol):
    channel: str

    def send(self, destination: str, message: Message, notification_id: int) -> str: ...

    def close(self) -> None: ...


def redact(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return one_line(text)[:500]


# -- pacing -------------------------------------------------------------------------------------


@dataclass
class Pacer:
    """At most RATE sends per PERIOD seconds, per key and overall (a sliding window): a burst to one
    busy chat is spread out instead of refused."""

    rate: int
    period: float
    _sent: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, key: str = "", stop: threading.Event | None = None) -> float:
        """Sleep until KEY may send (or STOP is set: then it may not); how long it slept."""
        slept = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                window = self._sent.setdefault(key, deque())
                while window and window[0] <= now - self.period:
                    window.popleft()
                if len(window) < self.rate:
                    window.append(now)
                    return slept
                pause = window[0] + self.period - now
            # pacing a provider's limit, not synchronising a test
            if stop is not None:
                if stop.wait(pause):
                    return slept
            else:
                time.sleep(pause)
            slept += pause


# -- e-mail -------------------------------------------------------------------------------------


@dataclass
class EmailSender:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    channel: str = "email"
    _smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=10)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def _mail(self, destination: str, message: Message, notification_id: int) -> EmailMessage:
        # one address, as stored: a value the headers cannot hold (or that would name several
        # recipients) is refused here, not sent to whoever it happens to parse into
        if not _ONE_ADDRESS.fullmatch(destination):
            raise Permanent("not a deliverable e-mail address")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = destination
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(
            idstring=f"n{notification_id}", domain=self.sender.rpartition("@")[2] or None
        )
        mail.set_content(message.text)
        mail.add_alternative(message.html(), subtype="html")
        return mail

    def send(self, destination: str, message: Message, notification_id: int) -> str:
        mail = self._mail(destination, message, notification_id)
        for attempt in (1, 2):
            try:
                refused = self._connection().send_message(mail, self.sender, [destination])
            except smtplib.SMTPServerDisconnected:
                self.close()  # the relay dropped an idle connection: once more on a fresh one
                if attempt == 1:
                    continue
                raise Transient("SMTP: the server disconnected") from None
            except smtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients
            except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as exc:
                self.close()  # our login or our sender address: a configuration to fix, not the person's
                raise Transient(self._reason(exc.smtp_code, exc.smtp_error)) from None
            except smtplib.SMTPResponseException as exc:
                self.close()
                code = exc.smtp_code
                reason = self._reason(code, exc.smtp_error)
                # 5xx but 530/534/535 (authentication) and 554 (the relay refusing us): the message's
                raise (
                    Permanent(reason)
                    if 500 <= code < 600 and code not in (530, 534, 535, 554)
                    else Transient(reason)
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise Transient(self._reason(None, str(exc) or type(exc).__name__)) from None
            break
        if refused:
            code, reply = next(iter(refused.values()))
            reason = self._reason(code, reply)
            raise (Permanent(reason) if 500 <= code < 600 else Transient(reason))
        return str(mail["Message-ID"])

    def _reason(self, code: int | None, said: bytes | str) -> str:
        text = said.decode(errors="replace") if isinstance(said, bytes) else said
        return redact(f"SMTP {code}: {text}" if code else f"SMTP: {text}", self.password or "")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


# -- HTTP providers -----------------------------------------------------------------------------


def _retry_after(response: httpx.Response, body: Any) -> int | None:
    seconds: int | None = None
    if isinstance(body, dict):
        said = (body.get("parameters") or {}).get("retry_after")
        seconds = said if isinstance(said, int) else None
    if seconds is None:
        header = response.headers.get("Retry-After", "")
        seconds = int(header) if header.isdigit() else None
    return None if seconds is None else min(max(seconds, 0), MAX_RETRY_AFTER)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


UNKNOWN_PHOTO = "unknown"  # a photo message whose photo we do not know (edited from an old record)


@dataclass(frozen=True)
class Published:
    """A channel message as Telegram now shows it: its id and the photo it shows (None: text)."""

    message_id: int
    photo: str | None


@dataclass
class TelegramSender:
    """The Bot API at BASE_URL (https://api.telegram.org, or a local Bot API server: the same
    protocol). Paced to Telegram's published limits: about 30 messages a second overall and 20 a
    minute to one group or channel (chat ids below zero), edits included. Channel posts with a
    photo go out as photos from PHOTO_URL/<storage key> when PHOTO_URL is set, as text otherwise."""

    base_url: str
    token: str = field(repr=False)
    photo_url: str | None = None
    listing_url: str | None = None  # a listing's page, with {id}: the link under a channel post
    channel: str = "telegram"
    overall: Pacer = field(default_factory=lambda: Pacer(30, 1.0))
    per_group: Pacer = field(default_factory=lambda: Pacer(20, 60.0))
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT))

    def pace(self, destination: str, stop: threading.Event | None = None) -> None:
        """Wait until a message to DESTINATION keeps to Telegram's limits, or STOP is set. Called
        before the worker records `sending` (a wait inside the call would eat the lease the call
        needs)."""
        if destination.startswith("-"):
            self.per_group.wait(destination, stop)
        self.overall.wait("", stop)

    def call(self, method: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        """One Bot API call (not paced: see pace()): its result, or Transient/Permanent with
        Telegram's description."""
        url = f"{self.base_url.rstrip('/')}/bot{self.token}/{method}"
        try:
            response = self.client.post(
                url, json=payload, timeout=TIMEOUT if timeout is None else httpx.Timeout(timeout, connect=5.0)
            )
        except httpx.HTTPError as exc:
            raise Transient(redact(f"Telegram: {type(exc).__name__}: {exc}", self.token)) from None
        body = _json(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("ok"):
            return body.get("result")
        described = body.get("description", "") if isinstance(body, dict) else ""
        reason = redact(f"Telegram {response.status_code}: {described or response.reason_phrase}", self.token)
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(reason, _retry_after(response, body))
        if response.status_code in (400, 403):
            # 400 chat not found, 403 bot was blocked by the user / kicked: this chat will not take it
            raise Permanent(reason)
        # 401/404 (a wrong or revoked token, a wrong base URL), 3xx: our configuration, not the chat
        raise Transient(reason)

    def send(self, destination: str, message: Message, notification_id: int) -> str:
        result = self.call("sendMessage", {"chat_id": destination, "text": message.text})
        return str(result["message_id"])

    def publish(self, chat: str, post: Post, message_id: int | None, shown_photo: str | None) -> Published:
        """Post POST in the channel CHAT, or edit message MESSAGE_ID (which shows SHOWN_PHOTO) to
        say it: the same message id, so an edit sent twice leaves one message. A photo message is
        edited through its caption, or its media when the first photo changed; a text message stays
        text (Telegram cannot turn one into the other)."""
        photo = post.photo if self.photo_url else None
        if message_id is None:
            if photo:
                try:
                    sent = self.call(
                        "sendPhoto", {"chat_id": chat, "photo": self._url(photo), "caption": post.caption}
                    )
                    return Published(int(sent["message_id"]), photo)
                except Permanent:
                    pass  # Telegram could not fetch or take the photo: the post goes out as text
            sent = self.call("sendMessage", {"chat_id": chat, "text": post.text})
            return Published(int(sent["message_id"]), None)
        target: dict[str, Any] = {"chat_id": chat, "message_id": message_id}
        if shown_photo is not None and photo and photo != shown_photo:
            media = {"type": "photo", "media": self._url(photo), "caption": post.caption}
            if self._edit("editMessageMedia", {**target, "media": media}):
                return Published(message_id, photo)
        as_text = {**target, "text": post.text}
        as_caption = {**target, "caption": post.caption}
        first, second = (
            ("editMessageCaption", "editMessageText")
            if shown_photo
            else ("editMessageText", "editMessageCaption")
        )
        if self._edit(first, as_caption if shown_photo else as_text):
            return Published(message_id, shown_photo)
        # the message is not what we stored (a photo reported as text, say): the other way, and
        # what it shows recorded (a photo whose key is unknown: the next edit replaces it)
        self._edit(second, as_text if shown_photo else as_caption, strict=True)
        return Published(message_id, None if shown_photo else UNKNOWN_PHOTO)

    def _edit(self, method: str, payload: dict[str, Any], strict: bool = False) -> bool:
        """Make an edit: True when the message now says it (Telegram's "message is not modified":
        an edit sent again after a crash), False when the message is of the other kind (no text,
        or no caption, to edit), unless STRICT."""
        try:
            self.call(method, payload)
        except Permanent as exc:
            if "message is not modified" in str(exc):
                return True
            # "there is no text / caption / media in the message to edit"
            if not strict and "there is no " in str(exc) and "to edit" in str(exc):
                return False
            raise
        return True

    def _url(self, key: str) -> str:
        return f"{(self.photo_url or '').rstrip('/')}/{key}"

    def close(self) -> None:
        self.client.close()


@dataclass
class SmsSender:
    """One generic gateway shape (README): POST URL with a JSON body {"to", "text", "reference"} and
    `Authorization: Bearer KEY`; a 2xx answer means sent, its JSON "id" (if any) is the message id.
    401/403 (our key), 3xx, 408, 429 (with Retry-After) and 5xx pass; other 4xx are the number's
    (permanent)."""

    url: str
    key: str = field(repr=False)
    channel: str = "sms"
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT))

    def send(self, destination: str, message: Message, notification_id: int) -> str:
        payload = {"to": destination, "text": message.text, "reference": f"bazaar-{notification_id}"}
        try:
            response = self.client.post(
                self.url, json=payload, headers={"Authorization": f"Bearer {self.key}"}
            )
        except httpx.HTTPError as exc:
            raise Transient(redact(f"SMS gateway: {type(exc).__name__}: {exc}", self.key)) from None
        body = _json(response)
        if 200 <= response.status_code < 300:
            # sent: a gateway that names no id is still not asked again (that would send it twice)
            return str(body["id"])[:200] if isinstance(body, dict) and body.get("id") else ""
        described = body.get("error", "") if isinstance(body, dict) else ""
        reason = redact(
            f"SMS gateway {response.status_code}: {described or response.reason_phrase}", self.key
        )
        # 401/403 (our key) and 3xx are our configuration; 408, 429 and 5xx pass; other 4xx: the number's
        if (
            response.status_code in (401, 403, 408, 429)
            or response.status_code >= 500
            or response.status_code < 400
        ):
            raise Transient(reason, _retry_after(response, body))
        raise Permanent(reason)

    def close(self) -> None:
        self.client.close()
