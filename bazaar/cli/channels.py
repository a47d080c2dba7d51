"""`bazaar channel …`: Telegram channel posts (ADR 0009). Staff configure channels; a posting
worker takes pending posts and edits and reports the channel message ids; anyone compares a
listing's posts with the site."""

from __future__ import annotations

import click

from bazaar.cli import ID, Settings, call, cli, done, json_option, one, pass_settings, token_option
from bazaar.output import print_output


@cli.group()
def channel() -> None:
    """Telegram channels: configure, take pending posts, report deliveries, compare with the site."""


@channel.command("pending")
@click.option("--worker", required=True, help="This worker's name: its lease is in this name.")
@click.option("--batch", type=int, default=100, show_default=True)
@json_option
@pass_settings
def channel_pending(settings: Settings, worker: str, batch: int) -> None:
    """Take channel posts and edits to send (leased; handed out again if not reported in time)."""
    rows = [
        {**r, "title": r["payload"]["snapshot"]["title"], "message_id": r["payload"]["telegram_message_id"]}
        for r in call(settings, "claim_channel_posts", worker, batch, as_worker=True)
    ]
    columns = ["notification_id", "kind", "destination", "message_id", "title", "claimed_until"]
    print_output([*columns, "payload"] if settings.json else columns, rows, settings.json)


@channel.command("delivered")
@click.argument("notification_id", type=ID)
@click.argument("telegram_message_id", type=ID)
@click.option("--worker", required=True)
@click.option(
    "--photo", metavar="STORAGE_KEY", help="The photo a photo message shows (edits go to its caption)."
)
@json_option
@pass_settings
def channel_delivered(
    settings: Settings, notification_id: int, telegram_message_id: int, worker: str, photo: str | None
) -> None:
    """Report a channel post (or edit) sent, with the channel's message id."""
    one(
        settings,
        "channel_post_delivered",
        worker,
        notification_id,
        telegram_message_id,
        photo or None,
        as_worker=True,
    )
    done(
        settings,
        f"notification {notification_id} delivered as message {telegram_message_id}",
        notification_id=notification_id,
        telegram_message_id=telegram_message_id,
    )


@channel.command("posts")
@click.argument("listing_id", type=ID)
@click.option("--token", envvar="BAZAAR_TOKEN", metavar="TOKEN", help="For a listing that is not public.")
@json_option
@pass_settings
def channel_posts(settings: Settings, listing_id: int, token: str | None) -> None:
    """A listing's channel posts and where the channel differs from the site."""
    rows = call(settings, "channel_posts", listing_id, token or None)
    columns = ["post_id", "channel_name", "telegram_message_id", "differences", "pending_updates"]
    print_output([*columns, "channel_shows", "site_shows"] if settings.json else columns, rows, settings.json)


@channel.command("create")
@click.argument("name")
@click.option("--chat-id", type=int, required=True, help="The channel's Telegram chat id (-100…).")
@click.option("--region", help="Only listings of this region.")
@click.option("--category", "category_id", type=int, help="Only listings of this category subtree (id).")
@token_option
@json_option
@pass_settings
def channel_create(
    settings: Settings, name: str, chat_id: int, region: str | None, category_id: int | None, token: str
) -> None:
    """Add a channel (moderators and admins)."""
    channel_id = one(settings, "create_channel", token, name, chat_id, region, category_id)["create_channel"]
    done(settings, f"channel {channel_id} created", channel_id=channel_id)


@channel.command("list")
@token_option
@json_option
@pass_settings
def channel_list(settings: Settings, token: str) -> None:
    """The configured channels (moderators and admins)."""
    columns = ["channel_id", "name", "telegram_chat_id", "region", "category", "active", "posts"]
    print_output(columns, call(settings, "channels", token), settings.json)


@channel.command("activate")
@click.argument("channel_id", type=ID)
@click.option("--off", "off", is_flag=True, help="Deactivate instead: no new posts.")
@token_option
@json_option
@pass_settings
def channel_activate(settings: Settings, channel_id: int, off: bool, token: str) -> None:
    """Switch a channel on (or --off)."""
    one(settings, "set_channel_active", token, channel_id, not off)
    done(settings, f"channel {channel_id} is {'off' if off else 'on'}", channel_id=channel_id, active=not off)
