"""The delivery worker end to end: the outbox's rows leave by a real SMTP server and the Bot API
and SMS gateway stand-ins; the database records what happened (provider message ids, backoff,
dead letters); one user's messages keep their order; several workers share the outbox without
sending anything twice; the bot token and the gateway key reach no stored error and no log line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from bazaar.stack.processes import poll
from bazaar.worker.loop import Counts, Worker, channels_of
from bazaar.worker.senders import EmailSender, SmsSender, TelegramSender
from tests.worker.conftest import BOT_TOKEN, SMS_KEY, Database, Mailbox, StandIn, worker_environment

_serial = itertools.count(1)


def person(db: Database, channels: list[str]) -> dict[str, Any]:
    n = next(_serial)
    with db.admin() as conn:
        row = conn.execute(
            "insert into core.users (display_name, email, phone, telegram_chat_id, password_hash, "
            "notification_channels) values (%s, %s, %s, %s, '$2b$04$' || repeat('x', 53), %s) "
            "returning id, email, phone, telegram_chat_id::text",
            [f"Person {n}", f"person{n}@example.com", f"+7926{n:07d}", 5_000_000 + n, channels],
        ).fetchone()
    assert row is not None
    return dict(zip(("id", "email", "phone", "chat"), row, strict=True))


def notify(db: Database, user: dict[str, Any], kind: str, payload: dict[str, Any]) -> None:
    with db.admin() as conn:
        conn.execute("select core.notify(%s, %s, %s::jsonb)", [user["id"], kind, json.dumps(payload)])


def rows(db: Database, user: dict[str, Any]) -> list[dict[str, Any]]:
    with db.admin() as conn:
        cur = conn.execute(
            "select id, channel::text, kind, delivered_at, failed_at, next_attempt_at - now() as wait, "
            "last_error, provider_message_id, attempts from core.notifications where user_id = %s "
            "order by id",
            [user["id"]],
        )
        names = [c.name for c in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def worker(db: Database, *senders: Any, name: str = "w1") -> Worker:
    w = Worker(db.worker_dsn, channels_of(list(senders)), poll=0.1)
    w.name = name
    return w


def test_an_order_notice_arrives_by_email_with_text_and_html(
    outbox: Database, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    user = person(outbox, ["email"])
    notify(outbox, user, "order_reserved", {"order_id": 77, "listing_ids": [5, 6], "total_amount": 499050})
    done = worker(outbox, EmailSender("127.0.0.1", port, "noreply@bazaar.test")).run(until_idle=True)
    assert done == Counts(delivered=1)
    [mail] = mailbox.messages
    assert (mail["To"], mail["From"], mail["Subject"]) == (
        user["email"],
        "noreply@bazaar.test",
        "Новый заказ №77",
    )
    parts = {p.get_content_type(): decoded(p) for p in mail.walk() if not p.is_multipart()}
    assert "№5, №6" in parts["text/plain"] and "4 990.50 ₽" in parts["text/plain"]
    assert parts["text/html"].startswith("<!doctype html>")
    [stored] = rows(outbox, user)
    assert stored["delivered_at"] is not None and stored["provider_message_id"] == mail["Message-ID"]


def test_a_refused_address_is_set_aside_at_once(outbox: Database, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    user = person(outbox, ["email"])
    mailbox.refuse.add(user["email"])
    notify(outbox, user, "password_changed", {"how": "changed"})
    done = worker(outbox, EmailSender("127.0.0.1", port, "noreply@bazaar.test")).run(until_idle=True)
    assert done == Counts(dead=1)
    [stored] = rows(outbox, user)
    assert stored["failed_at"] is not None and stored["last_error"].startswith("SMTP 550")


def test_telegram_429_is_honoured_then_the_message_goes(outbox: Database, standin: StandIn) -> None:
    user = person(outbox, ["telegram"])
    too_many = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 30"}
    standin.script(user["chat"], (429, too_many | {"parameters": {"retry_after": 30}}))
    notify(outbox, user, "sign_in_code", {"code": "482913"})
    telegram = TelegramSender(standin.url, BOT_TOKEN)
    assert worker(outbox, telegram).run(until_idle=True) == Counts(retried=1)
    [stored] = rows(outbox, user)
    assert stored["delivered_at"] is None and stored["wait"] > timedelta(seconds=29)  # not the 10 s backoff
    assert stored["last_error"] == "Telegram 429: Too Many Requests: retry after 30"
    with outbox.admin() as conn:  # the 30 seconds pass
        conn.execute("update core.notifications set next_attempt_at = now() where id = %s", [stored["id"]])
    assert worker(outbox, TelegramSender(standin.url, BOT_TOKEN)).run(until_idle=True) == Counts(delivered=1)
    assert (
        standin.texts(user["chat"]) == ["Ваш код для входа в Bazaar: 482913.\n\nНикому его не сообщайте."] * 2
    )
    assert rows(outbox, user)[0]["provider_message_id"].isdigit()


def test_a_blocked_bot_is_a_dead_letter_that_can_be_retried(outbox: Database, standin: StandIn) -> None:
    user = person(outbox, ["telegram"])
    blocked = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    standin.script(user["chat"], (403, blocked))
    notify(outbox, user, "price_drop", {"listing_id": 9, "old_price": 150000, "new_price": 140000})
    notify(outbox, user, "review_request", {"listing_id": 9})
    done = worker(outbox, TelegramSender(standin.url, BOT_TOKEN)).run(until_idle=True)
    assert done == Counts(delivered=1, dead=1)  # the later one is no longer held back
    first, second = rows(outbox, user)
    assert first["failed_at"] is not None and second["delivered_at"] is not None
    assert first["last_error"] == "Telegram 403: Forbidden: bot was blocked by the user"
    with outbox.admin() as conn:  # the user unblocked the bot; an operator puts the letter back
        conn.execute("set role bazaar_worker")
        conn.execute("select api.retry_dead_letter(%s)", [first["id"]])
    assert worker(outbox, TelegramSender(standin.url, BOT_TOKEN)).run(until_idle=True) == Counts(delivered=1)


def test_sms_gateway_errors_pass_or_are_permanent(outbox: Database, standin: StandIn) -> None:
    user, unreachable = person(outbox, ["sms"]), person(outbox, ["sms"])
    standin.script(user["phone"], (503, {"error": "try later"}))
    standin.script(unreachable["phone"], (400, {"error": "invalid number"}))
    notify(outbox, user, "order_paid", {"order_id": 1})
    notify(outbox, unreachable, "order_paid", {"order_id": 2})
    sms = SmsSender(f"{standin.url}/send", SMS_KEY)
    assert worker(outbox, sms).run(until_idle=True) == Counts(retried=1, dead=1)
    assert rows(outbox, unreachable)[0]["last_error"] == "SMS gateway 400: invalid number"
    assert rows(outbox, user)[0]["last_error"] == "SMS gateway 503: try later"
    with outbox.admin() as conn:
        conn.execute("update core.notifications set next_attempt_at = now() where user_id = %s", [user["id"]])
    assert worker(outbox, SmsSender(f"{standin.url}/send", SMS_KEY)).run(until_idle=True) == Counts(
        delivered=1
    )
    assert rows(outbox, user)[0]["provider_message_id"].startswith("sms-")
    sent = [r for r in standin.requests if r["body"].get("to") == user["phone"]]
    assert sent[-1]["body"]["reference"] == f"bazaar-{rows(outbox, user)[0]['id']}"


def test_one_users_messages_keep_their_order(outbox: Database, standin: StandIn) -> None:
    user = person(outbox, ["telegram"])
    standin.script(user["chat"], (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}))
    for n in range(5):
        notify(outbox, user, "seller_message", {"listing_id": 1, "message": f"message {n}"})
    w = worker(outbox, TelegramSender(standin.url, BOT_TOKEN))
    assert w.run(until_idle=True) == Counts(retried=1)  # the first failed: the rest wait behind it
    with outbox.admin() as conn:
        conn.execute("update core.notifications set next_attempt_at = now() where user_id = %s", [user["id"]])
    assert worker(outbox, TelegramSender(standin.url, BOT_TOKEN)).run(until_idle=True) == Counts(delivered=5)
    texts = standin.texts(user["chat"])
    assert [t.rsplit(" ", 1)[-1] for t in texts] == ["0", "0", "1", "2", "3", "4"]


def test_three_workers_deliver_5000_notifications_each_exactly_once(
    outbox: Database, standin: StandIn
) -> None:
    with outbox.admin() as conn:  # 500 people with 10 SMS each, queued in the order of n
        conn.execute(
            "with people as ("
            "insert into core.users (display_name, phone, password_hash, notification_channels) "
            "select 'Bulk ' || p, '+7925' || lpad(p::text, 7, '0'), '$2b$04$' || repeat('x', 53), '{sms}' "
            "from generate_series(1, 500) as p returning id) "
            "insert into core.notifications (user_id, channel, kind, payload) "
            "select p.id, 'sms', 'seller_message', jsonb_build_object('listing_id', 1, 'message', n) "
            "from generate_series(1, 10) as n cross join people as p order by n, p.id"
        )
    workers = [worker(outbox, SmsSender(f"{standin.url}/send", SMS_KEY), name=f"w{n}") for n in range(3)]
    for w in workers:
        w.batch = 100
    results: list[Counts] = []
    threads = [threading.Thread(target=lambda w=w: results.append(w.run(until_idle=True))) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert sum(r.delivered for r in results) == 5000 and all(r.possible_duplicates == 0 for r in results)
    assert all(r.delivered > 0 for r in results)  # the three shared the work
    sent = [(r["body"]["to"], r["body"]["text"]) for r in standin.requests]
    assert len(sent) == len(set(sent)) == 5000  # each once
    # and each person's ten in the order they were queued, whichever worker sent them
    by_person: dict[str, list[int]] = {}
    for to, text in sent:
        by_person.setdefault(to, []).append(int(text.rsplit(": ", 1)[1]))
    assert all(numbers == list(range(1, 11)) for numbers in by_person.values())


def test_no_secret_reaches_a_stored_error_or_a_log_line(
    outbox: Database, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    user = person(outbox, ["telegram", "sms"])
    standin.script(user["chat"], (500, {"ok": False, "error_code": 500, "description": f"echo {BOT_TOKEN}"}))
    standin.script(user["phone"], (500, {"error": f"echo {SMS_KEY}"}))
    notify(outbox, user, "order_paid", {"order_id": 3})
    senders = (TelegramSender(standin.url, BOT_TOKEN), SmsSender(f"{standin.url}/send", SMS_KEY))
    assert worker(outbox, *senders).run(until_idle=True) == Counts(retried=2)
    errors = " ".join(r["last_error"] for r in rows(outbox, user))
    assert "***" in errors and BOT_TOKEN not in errors and SMS_KEY not in errors
    logged = capsys.readouterr().err
    assert logged and BOT_TOKEN not in logged and SMS_KEY not in logged
    assert user["phone"] not in logged and user["chat"] not in logged  # nor whom it was for


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_only_its_call_in_flight(
    outbox: Database, standin: StandIn, tmp_path: Path
) -> None:
    people = [person(outbox, ["telegram"]) for _ in range(60)]
    with outbox.admin() as conn:
        conn.execute("update core.settings set value = '\"5 seconds\"' where key = 'outbox_lease'")
        for user in people:
            conn.execute("select core.notify(%s, 'order_paid', '{\"order_id\": 1}')", [user["id"]])
    standin.delay = 0.05
    env = worker_environment(outbox, standin, tmp_path)
    doomed = subprocess.Popen(
        [sys.executable, "-m", "bazaar", "worker", "--name", "doomed", "--batch", "20", "--poll", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        poll(lambda: len(standin.requests) >= 10, 30, "the worker to be sending")
    finally:
        doomed.kill()  # SIGKILL: no acknowledgement, no release of its leases
        stderr = doomed.communicate(timeout=10)[1].decode()
    assert BOT_TOKEN not in stderr

    survivor = worker(outbox, TelegramSender(standin.url, BOT_TOKEN), name="survivor")
    found = Counts()

    def all_delivered() -> bool:
        found.add(survivor.run(until_idle=True))  # the doomed worker's leases run out after 5 s
        with outbox.admin() as conn:
            row = conn.execute(
                "select count(*) from core.notifications where kind = 'order_paid' and delivered_at is null"
            ).fetchone()
        return row == (0,)

    poll(all_delivered, 60, "every notification delivered")
    sent = [(r["body"]["chat_id"], r["body"]["text"]) for r in standin.requests]
    duplicates = len(sent) - len(set(sent))
    assert len(set(sent)) == 60
    # the doomed worker sends one message at a time: at most the one in flight went twice, and the
    # survivor saw that it might have (sending_at was set)
    assert duplicates <= 1 and duplicates <= found.possible_duplicates <= 1


def test_an_address_the_headers_cannot_carry_is_set_aside_and_the_next_one_goes(
    outbox: Database, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    bad, good = person(outbox, ["email"]), person(outbox, ["email"])
    with outbox.admin() as conn:  # stored before the api checked addresses this strictly
        conn.execute("update core.users set email = 'x,victim@gmail.com' where id = %s", [bad["id"]])
    notify(outbox, bad, "order_paid", {"order_id": 1})
    notify(outbox, good, "order_paid", {"order_id": 2})
    done = worker(outbox, EmailSender("127.0.0.1", port, "noreply@bazaar.test")).run(until_idle=True)
    assert done == Counts(delivered=1, dead=1)  # no crash, and no mail to victim@gmail.com
    assert [m["To"] for m in mailbox.messages] == [good["email"]]
    assert rows(outbox, bad)[0]["last_error"] == "not a deliverable e-mail address"


def test_our_own_configuration_errors_are_retried_not_set_aside(outbox: Database, standin: StandIn) -> None:
    user = person(outbox, ["telegram", "sms"])
    notify(outbox, user, "order_paid", {"order_id": 4})
    senders = (
        TelegramSender(standin.url, "999:a-revoked-token"),
        SmsSender(f"{standin.url}/send", "wrong-key"),
    )
    assert worker(outbox, *senders).run(until_idle=True) == Counts(retried=2)  # 401 each: ours to fix
    assert {r["last_error"].split(":")[0] for r in rows(outbox, user)} == {"Telegram 401", "SMS gateway 401"}


def test_a_gateway_that_names_no_message_id_still_counts_as_sent(outbox: Database, standin: StandIn) -> None:
    user = person(outbox, ["sms"])
    standin.script(user["phone"], (202, {"status": "queued"}))
    notify(outbox, user, "order_paid", {"order_id": 5})
    assert worker(outbox, SmsSender(f"{standin.url}/send", SMS_KEY)).run(until_idle=True) == Counts(
        delivered=1
    )
    [stored] = rows(outbox, user)
    assert stored["delivered_at"] is not None and stored["provider_message_id"] is None
    assert len(standin.texts(user["phone"])) == 1  # sent once, not again
