"""The Telegram bot's side of sign-in, run by the delivery worker beside its loop: it reads the
bot's updates by long polling (getUpdates) and answers the people who write to it.

* `/start <link token>` (the link https://t.me/<bot>?start=<token> the app shows after
  api.request_telegram_link) links the private chat to the account, and asks for the phone with a
  "share contact" button;
* a contact the person shares (their own: Telegram vouches for its number) fills the phone of the
  linked account, so request_sign_in_code → a code in Telegram → sign_in_with_code works;
* anything else gets a line on how to link.

One worker at a time reads (two getUpdates calls would each get the same updates): it holds a
lease in the database (api.telegram_poll) with the offset of the next update, and records the
offset after each update it handled (api.telegram_polled), so a restart or another worker carries
on from there. An update handled twice (a crash between handling and recording) does no harm:
every handler is idempotent. No log line carries a link token, a phone or a chat id.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bazaar.jsonlog import log
from bazaar.worker.loop import connect
from bazaar.worker.senders import Permanent, TelegramSender, Transient

LINKED = (
    "Telegram привязан к вашему аккаунту Bazaar. Поделитесь номером телефона кнопкой ниже: "
    "на него будут приходить коды для входа."
)
PHONE_SAVED = "Номер сохранён. Теперь можно входить в Bazaar по коду, который придёт сюда."
PHONE_KEPT = "Этот номер уже указан в вашем аккаунте. Коды для входа будут приходить сюда."
HOW_TO_LINK = (
    "Чтобы получать коды для входа и уведомления Bazaar здесь, откройте приложение: "
    "Профиль → Привязать Telegram."
)
# what the database's refusal means to the person in the chat, by SQLSTATE
START_REFUSED = {
    "22023": "Ссылка неверна. Запросите новую в приложении: Профиль → Привязать Telegram.",
    "28000": "Ссылка устарела или уже использована. Запросите новую в приложении.",
    "23505": "Этот Telegram уже привязан к другому аккаунту Bazaar.",
    "42501": "Аккаунт заблокирован.",
}
CONTACT_REFUSED = {
    "22023": "Контакт без номера телефона.",
    "42501": "Поделитесь своим контактом: кнопкой «Поделиться номером» под сообщением.",
    "P0002": "Сначала привяжите Telegram по ссылке из приложения: Профиль → Привязать Telegram.",
    "23505": "Этот номер уже указан в другом аккаунте Bazaar.",
}
SHARE_PHONE = {
    "keyboard": [[{"text": "Поделиться номером", "request_contact": True}]],
    "one_time_keyboard": True,
    "resize_keyboard": True,
}
NO_KEYBOARD = {"remove_keyboard": True}
MAX_TRIES = 3  # an update that fails this often is skipped


@dataclass(frozen=True)
class Refused:
    """The database refused what the person asked, with this SQLSTATE."""

    sqlstate: str


@dataclass
class Bot:
    dsn: str
    telegram: TelegramSender
    name: str
    stop: threading.Event = field(default_factory=threading.Event)
    poll_timeout: int = 25  # seconds Telegram holds a getUpdates call open when nothing arrives
    idle: float = 10.0  # seconds between two tries for the lease while another worker holds it
    _failures: dict[int, int] = field(default_factory=dict)  # update id -> failed tries

    def run(self) -> None:
        """Read and answer updates until STOP is set."""
        conn: psycopg.Connection[Any] | None = None
        while not self.stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(self.dsn, f"bot/{self.name}")
                if not self.poll_once(conn):
                    self.stop.wait(self.idle)
            except psycopg.Error as exc:
                log("error", "the bot cannot reach the database; trying again", error=type(exc).__name__)
                conn = None
                self.stop.wait(1.0)
            except (Transient, Permanent) as exc:
                # getUpdates refused: a wrong token, a webhook set on the bot (409), Telegram down
                log("error", "the bot cannot read its updates; trying again", reason=str(exc))
                self.stop.wait(self.idle)
            except Exception as exc:  # a bug of ours: logged, and the bot goes on (it must not die)
                log("error", "the bot failed unexpectedly; trying again", error=type(exc).__name__)
                self.stop.wait(self.idle)
        if conn is not None:
            conn.close()

    def poll_once(self, conn: psycopg.Connection[Any]) -> bool:
        """One getUpdates while holding the lease, every update answered and recorded; False
        when another worker reads the updates."""
        row = conn.execute("select api.telegram_poll(%s)", [self.name]).fetchone()
        if row is None or row[0] is None:
            return False
        updates = self.telegram.call(
            "getUpdates",
            {"offset": row[0], "timeout": self.poll_timeout, "limit": 20, "allowed_updates": ["message"]},
            timeout=self.poll_timeout + 10,
        )
        for update in updates or []:
            if self.stop.is_set():
                break
            update_id = int(update["update_id"])
            try:
                self.handle(conn, update.get("message") or {})
            except psycopg.OperationalError:
                raise  # the database is out of reach: this update is read again later
            except Exception as exc:
                # an update we cannot handle (a bug, a value the database refuses) is tried
                # again at the next polls, then skipped: it must not stop the bot for everyone
                tries = self._failures[update_id] = self._failures.get(update_id, 0) + 1
                log(
                    "error",
                    "a bot update could not be handled",
                    error=type(exc).__name__,
                    sqlstate=getattr(exc, "sqlstate", None),
                    tries=tries,
                )
                if tries < MAX_TRIES:
                    return True
            self._failures.pop(update_id, None)
            conn.execute("select api.telegram_polled(%s, %s)", [self.name, update_id + 1])
        return True

    def handle(self, conn: psycopg.Connection[Any], message: Mapping[str, Any]) -> None:
        chat = message.get("chat") or {}
        if chat.get("type") != "private":
            return  # groups and channels the bot is in: nothing to answer there
        chat_id = int(chat["id"])
        text = str(message.get("text") or "")
        contact = message.get("contact")
        if contact:
            outcome = self._ask(
                conn,
                "select api.telegram_contact(%s, %s, %s)",
                [chat_id, contact.get("phone_number"), contact.get("user_id")],
            )
            reply, markup = (
                (CONTACT_REFUSED.get(outcome.sqlstate, HOW_TO_LINK), None)
                if isinstance(outcome, Refused)
                else (PHONE_SAVED if outcome else PHONE_KEPT, NO_KEYBOARD)
            )
            self._reply(
                chat_id, reply, markup, "contact", outcome if isinstance(outcome, Refused) else "saved"
            )
        elif text.split(maxsplit=1)[:1] == ["/start"] and len(text.split()) == 2:
            outcome = self._ask(conn, "select api.telegram_start(%s, %s)", [text.split()[1], chat_id])
            if isinstance(outcome, Refused):
                self._reply(chat_id, START_REFUSED.get(outcome.sqlstate, HOW_TO_LINK), None, "start", outcome)
            else:
                self._reply(chat_id, LINKED, SHARE_PHONE, "start", "linked")
        else:
            self._reply(chat_id, HOW_TO_LINK, None, "help", "ok")

    def _ask(self, conn: psycopg.Connection[Any], query: str, args: list[Any]) -> Any:
        """The function's answer, or Refused with the SQLSTATE (a person's mistake, answered in
        the chat; anything else, say the database gone, propagates)."""
        try:
            row = conn.execute(query.encode(), args).fetchone()
        except (
            psycopg.errors.InvalidParameterValue,
            psycopg.errors.InvalidAuthorizationSpecification,
            psycopg.errors.UniqueViolation,
            psycopg.errors.InsufficientPrivilege,
            psycopg.errors.NoDataFound,
        ) as exc:
            return Refused(exc.sqlstate or "")
        return row[0] if row else None

    def _reply(
        self, chat_id: int, text: str, markup: Mapping[str, Any] | None, what: str, outcome: Any
    ) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if markup is not None:
            payload["reply_markup"] = markup
        try:
            self.telegram.pace(str(chat_id))
            self.telegram.call("sendMessage", payload)
        except (Transient, Permanent) as exc:  # the person may have blocked the bot: the update is done
            log("warning", "the bot's answer was not delivered", update=what, reason=str(exc))
        log(
            "info",
            "bot update answered",
            update=what,
            outcome=outcome.sqlstate if isinstance(outcome, Refused) else outcome,
        )
