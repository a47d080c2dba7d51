"""Telegram channel posts through the worker and the Bot API stand-in: a publication is one post,
a change of what it shows edits that same message (its caption, or its photo, when it is a photo),
a price-only change calls nothing, a sale says so in the post, an edit sent again after a crash
leaves one message, and a burst to one channel is spread to Telegram's per-chat limit."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bazaar.stack.processes import poll
from bazaar.worker.loop import Counts, Worker, channels_of
from bazaar.worker.messages import channel_post
from bazaar.worker.senders import Pacer, TelegramSender
from tests.worker.conftest import BOT_TOKEN, Database, StandIn, worker_environment
from tests.worker.marketplace import Account, Marketplace

PHOTOS = "https://photos.bazaar.test/p"
_chats = itertools.count(1_001_234_500_000)


@pytest.fixture
def market(outbox: Database) -> Marketplace:
    return Marketplace(outbox)


@pytest.fixture
def staff(market: Marketplace) -> Account:
    return market.account(role="moderator")


@pytest.fixture
def seller(market: Marketplace) -> Account:
    return market.account()


@pytest.fixture
def channel(market: Marketplace, staff: Account) -> Iterator[str]:
    """An active channel for every listing; switched off after the test, so the next test's
    listings are not posted to it."""
    chat = -next(_chats)
    channel_id = market.call(
        "create_channel", p_token=staff.token, p_name=f"Все объявления {chat}", p_telegram_chat_id=chat
    )
    yield str(chat)
    market.call("set_channel_active", p_token=staff.token, p_channel_id=channel_id, p_active=False)


def poster(outbox: Database, standin: StandIn, name: str = "poster", **options: Any) -> Worker:
    sender = TelegramSender(standin.url, BOT_TOKEN, listing_url="https://bazaar.test/l/{id}", **options)
    w = Worker(outbox.worker_dsn, channels_of([sender]), poll=0.1)
    w.name = name
    return w


def shown(standin: StandIn, chat: str) -> list[dict[str, Any]]:
    """The messages the channel shows now, oldest first."""
    return [standin.chats[chat][k] for k in sorted(standin.chats[chat])]


def test_a_post_is_edited_in_place_never_for_a_price_and_says_when_sold(
    outbox: Database, standin: StandIn, market: Marketplace, staff: Account, seller: Account, channel: str
) -> None:
    listing = market.published_part(seller, staff, title="Колодки Bosch", description="Передние, новые")
    worker = poster(outbox, standin)
    assert worker.run(until_idle=True).delivered == 1
    assert standin.calls(channel) == ["sendMessage"]
    [post] = shown(standin, channel)
    assert (
        post["text"].startswith("Колодки Bosch\n3 500 ₽")
        and f"https://bazaar.test/l/{listing}" in post["text"]
    )
    message_id = next(iter(standin.chats[channel]))

    market.edit(seller, listing, staff, title="Колодки Bosch, комплект")
    assert worker.run(until_idle=True).delivered == 1
    assert standin.calls(channel) == ["sendMessage", "editMessageText"]
    assert standin.requests[-1]["body"]["message_id"] == message_id  # the same message
    assert [p["text"].split("\n")[0] for p in shown(standin, channel)] == ["Колодки Bosch, комплект"]

    market.call("change_price", p_token=seller.token, p_listing_id=listing, p_price_amount=300000)
    assert market.pending_posts() == 0 and worker.run(until_idle=True) == Counts()
    assert len(standin.calls(channel)) == 2  # a price-only change calls nothing at all

    market.call("mark_listing_sold", p_token=seller.token, p_listing_id=listing)
    assert worker.run(until_idle=True).delivered == 1
    [post] = shown(standin, channel)
    assert post["text"].startswith("⛔ Больше не продаётся\nКолодки Bosch, комплект")
    posts = market.rows("channel_posts", p_listing_id=listing)
    assert [(p[4], p[5]["status"], p[8]) for p in posts] == [(message_id, "sold", 0)]


def test_a_photo_post_is_edited_through_its_caption_or_its_photo(
    outbox: Database, standin: StandIn, market: Marketplace, staff: Account, seller: Account, channel: str
) -> None:
    listing = market.published_part(seller, staff, photos=["l/1/front.jpg", "l/1/back.jpg"])
    worker = poster(outbox, standin, photo_url=PHOTOS)
    worker.run(until_idle=True)
    market.edit(seller, listing, staff, description="Оригинал, в упаковке")
    worker.run(until_idle=True)
    market.edit(seller, listing, staff, photos=["l/1/box.jpg"])
    worker.run(until_idle=True)
    assert standin.calls(channel) == ["sendPhoto", "editMessageCaption", "editMessageMedia"]
    [post] = shown(standin, channel)
    assert post["photo"] == f"{PHOTOS}/l/1/box.jpg" and "Оригинал, в упаковке" in post["text"]
    # the caption keeps to Telegram's 1024 characters however long the description
    market.edit(seller, listing, staff, description="Очень подробно. " * 300)
    assert worker.run(until_idle=True).delivered == 1
    [post] = shown(standin, channel)
    assert len(post["text"]) <= 1024 and post["text"].endswith(f"https://bazaar.test/l/{listing}")


def test_an_edit_sent_again_after_a_crash_leaves_one_message(
    outbox: Database, standin: StandIn, market: Marketplace, staff: Account, seller: Account, channel: str
) -> None:
    listing = market.published_part(seller, staff)
    poster(outbox, standin).run(until_idle=True)
    market.edit(seller, listing, staff, title="Колодки, новая цена доставки")
    # a worker claims the edit, records `sending`, makes the call and dies before reporting it
    crashed = poster(outbox, standin, name="crashed")
    with outbox.admin() as conn:
        conn.execute("set role bazaar_worker")
        [row] = conn.execute("select notification_id, payload from api.claim_channel_posts('crashed', 10)")
        conn.execute("select api.sending_notification(%s, 'crashed')", [row[0]])
        conn.execute("reset role")
        conn.execute("update core.notifications set claimed_until = now() where id = %s", [row[0]])
    sender = crashed.senders["telegram"]
    assert isinstance(sender, TelegramSender)
    sender.publish(channel, channel_post(row[1]), row[1]["telegram_message_id"], None)
    calls = len(standin.calls(channel))
    # the next worker sends it again: Telegram says nothing changed, which is delivered, not failed
    assert poster(outbox, standin).run(until_idle=True) == Counts(delivered=1, possible_duplicates=1)
    assert len(standin.calls(channel)) == calls + 1 and len(standin.chats[channel]) == 1
    assert market.rows("channel_posts", p_listing_id=listing)[0][8] == 0


def test_a_burst_to_one_channel_is_spread_to_its_limit_not_dropped(
    outbox: Database, standin: StandIn, market: Marketplace, staff: Account, channel: str
) -> None:
    sellers = [market.account() for _ in range(6)]
    for seller in sellers:
        market.published_part(seller, staff)
    pacer = RecordingPacer(2, 0.5)  # Telegram's 20 a minute, scaled down
    worker = poster(outbox, standin, per_group=pacer)
    assert worker.run(until_idle=True).delivered == 6
    granted = pacer.granted
    assert len(granted) == 6 and len(standin.calls(channel)) == 6
    # no three within the window (a microsecond's slack: the time is read just after the grant)
    assert all(granted[i + 2] - granted[i] >= 0.5 - 0.001 for i in range(len(granted) - 2))


@dataclass
class RecordingPacer(Pacer):
    """The worker's pacer, noting when it let each message go."""

    granted: list[float] = field(default_factory=list)

    def wait(self, key: str = "", stop: threading.Event | None = None) -> float:
        slept = super().wait(key, stop)
        self.granted.append(time.monotonic())
        return slept


def test_a_photo_telegram_cannot_take_is_posted_as_text_and_old_records_are_edited_the_right_way(
    outbox: Database, standin: StandIn, market: Marketplace, staff: Account, seller: Account, channel: str
) -> None:
    bad_photo = (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: failed to get HTTP URL content"},
    )
    standin.script(channel, bad_photo)
    listing = market.published_part(seller, staff, photos=["l/9/front.jpg"])
    worker = poster(outbox, standin, photo_url=PHOTOS)
    assert worker.run(until_idle=True).delivered == 1
    assert standin.calls(channel) == ["sendPhoto", "sendMessage"]  # the post is out, as text
    market.edit(seller, listing, staff, title="Колодки, фото позже")
    assert worker.run(until_idle=True).delivered == 1
    assert standin.calls(channel)[-1] == "editMessageText"
    # a photo message recorded as text (reported without its photo): the text edit is refused,
    # the caption edit goes, and the next edit knows it is a photo
    standin.chats[channel].clear()
    market.edit(seller, listing, staff, title="Колодки, снова фото")
    with outbox.admin() as conn:
        conn.execute("update core.channel_posts set telegram_photo = null where listing_id = %s", [listing])
    [message_id] = [p[4] for p in market.rows("channel_posts", p_listing_id=listing)]
    standin.chats[channel][message_id] = {"text": "old", "photo": f"{PHOTOS}/l/9/front.jpg"}
    assert worker.run(until_idle=True).delivered == 1
    assert standin.calls(channel)[-2:] == ["editMessageText", "editMessageCaption"]
    market.edit(seller, listing, staff, description="Теперь с описанием")
    assert worker.run(until_idle=True).delivered == 1
    assert standin.calls(channel)[-1] == "editMessageMedia"  # its photo was unknown: set again
    assert standin.chats[channel][message_id]["photo"] == f"{PHOTOS}/l/9/front.jpg"


def test_a_busy_channel_holds_up_neither_sign_in_codes_nor_the_stop(
    outbox: Database,
    standin: StandIn,
    market: Marketplace,
    staff: Account,
    channel: str,
    tmp_path: Path,
) -> None:
    for _ in range(25):  # more than Telegram lets one channel take in a minute (20)
        market.published_part(market.account(), staff)
    person = market.account()
    chat = 6_200_000 + person.id
    market.call("link_telegram", p_token=person.token, p_chat_id=chat, p_phone=person.phone)
    env = worker_environment(outbox, standin, tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "bazaar", "worker", "--name", "busy", "--poll", "0.1", "--no-bot"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        poll(lambda: len(standin.calls(channel)) >= 20, 30, "the channel's first minute of posts")
        market.call("request_sign_in_code", p_phone=person.phone)
        poll(lambda: len(standin.texts(str(chat))) == 1, 10, "the sign-in code, past the waiting posts")
        assert len(standin.calls(channel)) == 20  # the rest of the posts wait for the next minute
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)  # a post waiting for its turn does not hold up the stop
    assert code == 0
