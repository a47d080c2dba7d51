"""`bazaar order | deal | review | chat | notify | outbox …`: thin wrappers around the api.*
functions of orders, deals and reviews, the listing chat, and the notification outbox."""

from __future__ import annotations

import click

from bazaar.cli import (
    ID,
    Settings,
    call,
    cli,
    done,
    json_option,
    one,
    pass_settings,
    print_page,
    token_option,
)
from bazaar.output import money, print_object, print_output

# -- orders ------------------------------------------------------------------------------------


@cli.group()
def order() -> None:
    """Orders: reserve units, confirm payment, cancel."""


@order.command("create")
@click.argument("listing_id", type=ID)
@click.option("--quantity", type=int, default=1, show_default=True)
@click.option("--key", "idempotency_key", help="Idempotency key: repeating it returns the same order.")
@token_option
@json_option
@pass_settings
def order_create(
    settings: Settings, listing_id: int, quantity: int, idempotency_key: str | None, token: str
) -> None:
    """Order units of a listing; they are reserved at once for a limited time."""
    row = one(settings, "create_order", token, listing_id, quantity, idempotency_key)
    if settings.json:
        print_object(row, True)
        return
    verb = "reserved" if row["created"] else "already placed as"
    click.echo(
        f"order {row['order_id']}: {verb} {row['quantity']} unit(s), "
        f"{money(row['total_amount'], row['currency'])}, pay before {row['reserved_until']:%H:%M:%S}"
    )


@order.command("pay")
@click.argument("order_id", type=ID)
@token_option
@json_option
@pass_settings
def order_pay(settings: Settings, order_id: int, token: str) -> None:
    """Confirm the payment (the seller): the units are sold."""
    done(
        settings,
        f"order {order_id} is paid",
        order_id=order_id,
        status=one(settings, "pay_order", token, order_id)["pay_order"],
    )


@order.command("cancel")
@click.argument("order_id", type=ID)
@click.option("--reason")
@token_option
@json_option
@pass_settings
def order_cancel(settings: Settings, order_id: int, reason: str | None, token: str) -> None:
    """Cancel a reserved order (buyer or seller); its units are on sale again."""
    one(settings, "cancel_order", token, order_id, reason)
    done(settings, f"order {order_id} is cancelled", order_id=order_id)


@order.command("show")
@click.argument("order_id", type=ID)
@token_option
@json_option
@pass_settings
def order_show(settings: Settings, order_id: int, token: str) -> None:
    """An order and its history."""
    row = one(settings, "order_details", token, order_id)
    if not settings.json:
        row["total"] = money(row.pop("total_amount"), row["currency"])
        row["history"] = " -> ".join(h["to"] for h in row["history"] or [])
        row["lines"] = "; ".join(
            f"{line['quantity']} x {line['title']} (listing {line['listing_id']})"
            for line in row["lines"] or []
        )
    print_object(row, settings.json)


@order.command("list")
@click.option("--as", "role", type=click.Choice(["buyer", "seller"]), default="buyer", show_default=True)
@token_option
@json_option
@pass_settings
def order_list(settings: Settings, role: str, token: str) -> None:
    """Your orders as buyer, or the orders of your listings as seller."""
    rows = [
        {**r, "total": money(r["total_amount"], r["currency"])}
        for r in call(settings, "my_orders", token, role)
    ]
    print_output(
        ["order_id", "listing_id", "title", "quantity", "total", "status", "created_at"], rows, settings.json
    )


# -- deals and reviews -------------------------------------------------------------------------


@cli.group()
def deal() -> None:
    """Deals: completed sales that make a review possible."""


@deal.command("list")
@click.option("--cursor", help="The next_cursor of the previous page.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@token_option
@json_option
@pass_settings
def deal_list(settings: Settings, cursor: str | None, limit: int, token: str) -> None:
    """Your deals as buyer and seller, newest first, with what you can still do."""
    rows = call(settings, "my_deals", token, cursor, limit)
    columns = ["deal_id", "side", "other_name", "title", "confirmed_at", "can_confirm", "can_review"]
    print_page(
        settings, columns, rows, ["other_user_id", "listing_id", "order_id", "created_at", "review_id"]
    )


@deal.command("confirm")
@click.argument("deal_id", type=ID)
@token_option
@json_option
@pass_settings
def deal_confirm(settings: Settings, deal_id: int, token: str) -> None:
    """Confirm a deal a seller declared with you (then you may review them)."""
    one(settings, "confirm_deal", token, deal_id)
    done(settings, f"deal {deal_id} confirmed: you may review the seller", deal_id=deal_id)


@deal.command("record")
@click.argument("buyer_id", type=ID)
@click.option("--listing", "listing_id", type=ID, help="The listing sold, if it was one of yours.")
@token_option
@json_option
@pass_settings
def deal_record(settings: Settings, buyer_id: int, listing_id: int | None, token: str) -> None:
    """Declare an offline sale to a buyer; they are asked for a review."""
    deal_id = one(settings, "record_deal", token, buyer_id, listing_id)["record_deal"]
    done(settings, f"recorded deal {deal_id}", deal_id=deal_id)


@cli.group()
def review() -> None:
    """Reviews of sellers and of the marketplace."""


@review.command("seller")
@click.argument("seller_id", type=ID)
@click.option("--rating", type=click.IntRange(1, 5), required=True)
@click.option("--text", "body", required=True)
@click.option("--deal", "deal_id", type=ID, help="Which deal (default: the latest one not reviewed).")
@token_option
@json_option
@pass_settings
def review_seller(
    settings: Settings, seller_id: int, rating: int, body: str, deal_id: int | None, token: str
) -> None:
    """Rate a seller you have a deal with."""
    review_id = one(settings, "review_seller", token, seller_id, rating, body, deal_id)["review_seller"]
    done(settings, f"review {review_id} saved", review_id=review_id)


@review.command("platform")
@click.option("--rating", type=click.IntRange(1, 5), required=True)
@click.option("--text", "body", required=True)
@token_option
@json_option
@pass_settings
def review_platform(settings: Settings, rating: int, body: str, token: str) -> None:
    """Review the marketplace itself (once)."""
    one(settings, "review_platform", token, rating, body)
    done(settings, "thank you for your review")


@review.command("rating")
@click.argument("seller_id", type=ID)
@json_option
@pass_settings
def review_rating(settings: Settings, seller_id: int) -> None:
    """A seller's rating."""
    print_object(one(settings, "seller_rating", seller_id), settings.json)


# -- chat --------------------------------------------------------------------------------------


@cli.group()
def chat() -> None:
    """The shared chat under a listing."""


@chat.command("post")
@click.argument("listing_id", type=ID)
@click.argument("text")
@token_option
@json_option
@pass_settings
def chat_post(settings: Settings, listing_id: int, text: str, token: str) -> None:
    """Post a message."""
    message_id = one(settings, "post_message", token, listing_id, text)["post_message"]
    done(settings, f"posted message {message_id}", message_id=message_id)


@chat.command("list")
@click.argument("listing_id", type=ID)
@click.option("--before", type=ID, help="Older than this message id.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--token", envvar="BAZAAR_TOKEN", metavar="TOKEN", help="Moderators see deleted messages too.")
@json_option
@pass_settings
def chat_list(settings: Settings, listing_id: int, before: int | None, limit: int, token: str | None) -> None:
    """Messages, newest first."""
    rows = call(settings, "chat_messages", listing_id, token or None, before, limit)
    print_output(["message_id", "created_at", "author_name", "body", "deleted"], rows, settings.json)


@chat.command("disable")
@click.argument("listing_id", type=ID)
@click.option("--enable", is_flag=True, help="Turn the chat back on instead.")
@token_option
@json_option
@pass_settings
def chat_disable(settings: Settings, listing_id: int, enable: bool, token: str) -> None:
    """Turn a listing's chat off (history kept), or on again with --enable."""
    one(settings, "set_chat_enabled", token, listing_id, enable)
    done(settings, f"chat of listing {listing_id} is {'on' if enable else 'off'}", enabled=enable)


@chat.command("delete")
@click.argument("message_id", type=ID)
@token_option
@json_option
@pass_settings
def chat_delete(settings: Settings, message_id: int, token: str) -> None:
    """Delete a message (kept for moderators)."""
    one(settings, "delete_message", token, message_id)
    done(settings, f"deleted message {message_id}", message_id=message_id)


# -- notifications -----------------------------------------------------------------------------


@cli.group()
def notify() -> None:
    """Messages from sellers to the people interested in their listings."""


@notify.command("clickers")
@click.argument("listing_id", type=ID)
@click.argument("message")
@token_option
@json_option
@pass_settings
def notify_clickers(settings: Settings, listing_id: int, message: str, token: str) -> None:
    """Notify everyone who opened this listing's contacts, once each."""
    count = one(settings, "notify_clickers", token, listing_id, message)["notify_clickers"]
    done(settings, f"notified {count} people", people=count)


@cli.group()
def outbox() -> None:
    """The notification outbox, as a delivery worker sees it (BAZAAR_WORKER_DSN, role bazaar_worker)."""


@outbox.command("claim")
@click.option("--worker", required=True, help="This worker's name: its lease is in this name.")
@click.option("--batch", type=int, default=100, show_default=True)
@json_option
@pass_settings
def outbox_claim(settings: Settings, worker: str, batch: int) -> None:
    """Take notifications to deliver (leased; redelivered if not acknowledged in time)."""
    rows = call(settings, "claim_notifications", worker, batch, as_worker=True)
    columns = ["notification_id", "user_id", "channel", "destination", "kind", "attempts", "claimed_until"]
    print_output([*columns, "payload"] if settings.json else columns, rows, settings.json)


@outbox.command("ack")
@click.argument("notification_ids", type=ID, nargs=-1, required=True)
@click.option("--worker", required=True)
@json_option
@pass_settings
def outbox_ack(settings: Settings, notification_ids: tuple[int, ...], worker: str) -> None:
    """Confirm delivery of claimed notifications."""
    for notification_id in notification_ids:
        one(settings, "ack_notification", notification_id, worker, as_worker=True)
    done(settings, f"acknowledged {len(notification_ids)}", acknowledged=len(notification_ids))


@outbox.command("stats")
@json_option
@pass_settings
def outbox_stats(settings: Settings) -> None:
    """Waiting, leased and delivered notifications."""
    print_object(one(settings, "outbox_stats", as_worker=True), settings.json)


@outbox.command("dead-letters")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--before", type=ID, help="Older than this notification id (the next page).")
@json_option
@pass_settings
def outbox_dead_letters(settings: Settings, limit: int, before: int | None) -> None:
    """Notifications set aside as failed, newest first: channel, kind, attempts, last error."""
    rows = call(settings, "dead_letters", limit, before, as_worker=True)
    columns = ["notification_id", "user_id", "channel", "kind", "attempts", "failed_at", "last_error"]
    print_output(columns, rows, settings.json)


@outbox.command("dead-letter")
@click.argument("notification_id", type=ID)
@json_option
@pass_settings
def outbox_dead_letter(settings: Settings, notification_id: int) -> None:
    """One dead letter with its content (one-time codes removed) and request id."""
    print_object(one(settings, "dead_letter", notification_id, as_worker=True), settings.json)


@outbox.command("retry")
@click.argument("notification_ids", type=ID, nargs=-1, required=True)
@json_option
@pass_settings
def outbox_retry(settings: Settings, notification_ids: tuple[int, ...]) -> None:
    """Put dead letters back in the outbox (each goes out in its place, before the user's later ones)."""
    for notification_id in notification_ids:
        call(settings, "retry_dead_letter", notification_id, as_worker=True)
    done(settings, f"put back {len(notification_ids)}", retried=len(notification_ids))
