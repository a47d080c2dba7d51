"""The Telegram bot end to end, through the Bot API stand-in: a signed-in user asks for a link, the
person opens it in Telegram (/start <token>), shares their contact, and a sign-in code asked for
that phone arrives in the chat and signs them in. Two workers never both answer an update; a
worker that takes over carries on from the offset the first one recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bazaar.stack.processes import poll
from bazaar.worker.bot import HOW_TO_LINK, LINKED, PHONE_SAVED, START_REFUSED, Bot
from bazaar.worker.loop import Worker, channels_of
from bazaar.worker.senders import TelegramSender
from tests.worker.conftest import BOT_TOKEN, Database, StandIn
from tests.worker.marketplace import PASSWORD, Marketplace

CHAT = 4_242_001


@contextmanager
def reading(outbox: Database, standin: StandIn, name: str) -> Iterator[Bot]:
    """A bot reading the updates in a thread, until the block ends."""
    bot = Bot(outbox.worker_dsn, TelegramSender(standin.url, BOT_TOKEN), name, poll_timeout=1, idle=0.2)
    thread = threading.Thread(target=bot.run, daemon=True)
    thread.start()
    try:
        yield bot
    finally:
        bot.stop.set()
        thread.join(10)
        assert not thread.is_alive()


def answers(standin: StandIn, chat: int) -> list[str]:
    return standin.texts(str(chat))


def fresh_lease(outbox: Database) -> None:
    """No worker reads the updates yet, from the first one: each test's stand-in is a new bot."""
    with outbox.admin() as conn:
        conn.execute("update core.telegram_bot set poller = null, poll_until = null, next_update_id = 0")


def test_a_person_links_telegram_shares_the_phone_and_signs_in_with_a_code_from_it(
    outbox: Database, standin: StandIn
) -> None:
    fresh_lease(outbox)
    market = Marketplace(outbox)
    person = market.account()
    link = market.rows("request_telegram_link", p_token=person.token, p_password=PASSWORD)[0][0]
    with reading(outbox, standin, "bot-1"):
        standin.says(CHAT, f"/start {link}")
        poll(lambda: len(answers(standin, CHAT)) == 1, 15, "the bot to answer /start")
        assert answers(standin, CHAT) == [LINKED]
        assert standin.requests[-1]["body"]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        standin.shares_contact(CHAT, "79990002233")  # Telegram's form: no plus
        poll(lambda: len(answers(standin, CHAT)) == 2, 15, "the bot to answer the contact")
        assert answers(standin, CHAT)[-1] == PHONE_SAVED
        standin.says(CHAT + 50, f"/start {link}")  # the link from another chat: used, and said so
        poll(lambda: len(answers(standin, CHAT + 50)) == 1, 15, "the bot to answer the used link")
        assert answers(standin, CHAT + 50) == [START_REFUSED["28000"]]
    assert link not in str(standin.requests)  # the bot never repeats the token

    expires = market.call("request_sign_in_code", p_phone="+79990002233")
    assert expires is not None
    sender = TelegramSender(standin.url, BOT_TOKEN)
    delivery = Worker(outbox.worker_dsn, channels_of([sender]), poll=0.1)
    assert delivery.run(until_idle=True).delivered == 1
    code = answers(standin, CHAT)[-1].split(": ")[1][:6]
    session = market.rows("sign_in_with_code", p_phone="+79990002233", p_code=code)
    assert len(session) == 1 and session[0][1] == person.id


def test_two_workers_never_both_answer_an_update(outbox: Database, standin: StandIn) -> None:
    fresh_lease(outbox)
    with reading(outbox, standin, "bot-a"), reading(outbox, standin, "bot-b"):
        for n in range(5):
            standin.says(CHAT + 1 + n, "привет")
        poll(lambda: standin.pending_updates() == 0 and len(standin.requests) >= 5, 15, "five answers")
        # each chat answered once, though both workers poll for the lease
        assert sorted(r["body"]["chat_id"] for r in standin.requests) == list(range(CHAT + 1, CHAT + 6))
        assert {r["body"]["text"] for r in standin.requests} == {HOW_TO_LINK}
    with outbox.admin() as conn:
        row = conn.execute("select poller, next_update_id from core.telegram_bot").fetchone()
    assert row is not None and row[0] in ("bot-a", "bot-b") and row[1] > 0


def test_a_worker_taking_over_starts_after_the_last_recorded_update(
    outbox: Database, standin: StandIn
) -> None:
    fresh_lease(outbox)
    with reading(outbox, standin, "first"):
        standin.says(CHAT + 10, "раз")
        poll(lambda: len(standin.requests) == 1, 15, "the first answer")
    with outbox.admin() as conn:  # the first worker's lease runs out
        conn.execute("update core.telegram_bot set poll_until = now() - interval '1 second'")
    with reading(outbox, standin, "second"):
        standin.says(CHAT + 11, "два")
        poll(lambda: len(standin.requests) == 2, 15, "the second answer")
    assert [r["body"]["chat_id"] for r in standin.requests] == [CHAT + 10, CHAT + 11]  # none twice


def test_an_update_the_bot_cannot_handle_is_skipped_not_a_stop(outbox: Database, standin: StandIn) -> None:
    fresh_lease(outbox)
    with reading(outbox, standin, "sturdy"):
        standin.says(2**70, "/start " + "a" * 32)  # a chat id no bigint holds: the database refuses it
        standin.says(CHAT + 30, "привет")
        poll(lambda: len(answers(standin, CHAT + 30)) == 1, 15, "the next person's answer")
    assert [r["body"]["chat_id"] for r in standin.requests] == [CHAT + 30]
    with outbox.admin() as conn:
        row = conn.execute("select next_update_id from core.telegram_bot").fetchone()
    assert row == (1003,)  # past both updates (the stand-in numbers them 1001, 1002)
