"""Marketplace events through the api to what a person receives, end to end: a buyer who opened a
seller's contacts gets the seller's message in their Telegram chat; a seller gets the e-mail of an
order placed for their listing."""

from __future__ import annotations

from bazaar.worker.loop import Worker, channels_of
from bazaar.worker.senders import EmailSender, TelegramSender
from tests.worker.conftest import BOT_TOKEN, Database, Mailbox, StandIn
from tests.worker.marketplace import Marketplace
from tests.worker.test_delivery import decoded


def test_a_seller_messages_the_buyers_who_opened_the_contacts_in_telegram(
    outbox: Database, standin: StandIn
) -> None:
    market = Marketplace(outbox)
    staff, seller = market.account(role="moderator"), market.account()
    buyer = market.account(channels=["email"])
    market.call("link_telegram", p_token=buyer.token, p_chat_id=6_100_001, p_phone=buyer.phone)
    market.call("set_notification_channels", p_token=buyer.token, p_channels=["telegram"])
    listing = market.published_part(seller, staff)
    assert market.rows("open_contacts", p_listing_id=listing, p_token=buyer.token)
    assert (
        market.call("notify_clickers", p_token=seller.token, p_listing_id=listing, p_message="Отдам за 3000")
        == 1
    )
    delivery = Worker(outbox.worker_dsn, channels_of([TelegramSender(standin.url, BOT_TOKEN)]), poll=0.1)
    delivery.run(until_idle=True)
    [text] = standin.texts("6100001")
    assert text == f"Продавец объявления №{listing}: Отдам за 3000"


def test_an_order_reaches_the_seller_by_email(outbox: Database, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    market = Marketplace(outbox)
    staff, seller, buyer = market.account(role="moderator"), market.account(), market.account()
    listing = market.published_part(seller, staff, price=420000)
    [order] = market.rows("create_order", p_token=buyer.token, p_listing_id=listing)
    delivery = Worker(outbox.worker_dsn, channels_of([EmailSender("127.0.0.1", port, "noreply@bazaar.test")]))
    delivery.run(until_idle=True)
    [mail] = [m for m in mailbox.messages if m["To"] == seller.email and "заказ" in m["Subject"].lower()]
    assert mail["Subject"] == f"Новый заказ №{order[0]}"
    text = decoded(next(p for p in mail.walk() if p.get_content_type() == "text/plain"))
    assert f"№{listing}" in text and "4 200.00 ₽" in text
