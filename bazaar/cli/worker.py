"""`bazaar worker`: the delivery worker (bazaar/worker/), as a command."""

from __future__ import annotations

import click

from bazaar.cli import Settings, cli, json_option, pass_settings
from bazaar.output import print_object


@cli.command("worker")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    type=click.Choice(["telegram", "email", "sms"]),
    help="Deliver only this channel; repeat (default: every configured one).",
)
@click.option("--name", help="This worker's name in its leases (default: host:thread id).")
@click.option("--batch", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds between empty claims.",
)
@click.option("--until-idle", is_flag=True, help="Stop when nothing is left to deliver (tests, drains).")
@click.option(
    "--bot/--no-bot",
    default=True,
    show_default=True,
    help="Also read the Telegram bot's updates (/start links, shared contacts); one worker at a time does.",
)
@json_option
@pass_settings
def worker(
    settings: Settings,
    channels: tuple[str, ...],
    name: str | None,
    batch: int,
    poll: float,
    until_idle: bool,
    bot: bool,
) -> None:
    """Deliver the outbox's notifications by e-mail, Telegram and SMS, as bazaar_worker
    (BAZAAR_WORKER_DSN). Several may run at once. Channels come from the environment
    (BAZAAR_SMTP_*, BAZAAR_TELEGRAM_*, BAZAAR_SMS_*: README, "The delivery worker"); stops on
    SIGTERM after the message in hand. With Telegram it also posts to channels and answers the
    bot's chats (linking accounts)."""
    # imported here: httpx and smtplib would cost every other command ≈ 20 ms at start-up
    from bazaar.worker.main import serve

    counts = serve(settings.worker_dsn(), channels, name, batch, poll, until_idle, bot)
    if settings.json:
        print_object(vars(counts), True)
    else:
        click.echo(
            f"delivered {counts.delivered}, to retry {counts.retried}, set aside {counts.dead}, "
            f"possible duplicates {counts.possible_duplicates}"
        )
