"""`bazaar worker`: the delivery worker (bazaar/worker/), as a command."""

from __future__ import annotations

import logging
import os
import signal

import click

from bazaar.cli import Settings, cli, json_option, pass_settings
from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError
from bazaar.output import print_object
from bazaar.worker import config
from bazaar.worker.loop import Worker, channels_of


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
@json_option
@pass_settings
def worker(
    settings: Settings, channels: tuple[str, ...], name: str | None, batch: int, poll: float, until_idle: bool
) -> None:
    """Deliver the outbox's notifications by e-mail, Telegram and SMS, as bazaar_worker
    (BAZAAR_WORKER_DSN). Several may run at once. Channels come from the environment
    (BAZAAR_SMTP_*, BAZAAR_TELEGRAM_*, BAZAAR_SMS_*: README, "The delivery worker"); stops on
    SIGTERM after the message in hand."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines would show the bot's URL
    configured = channels_of(config.senders_from(os.environ))
    wanted = {c: configured[c] for c in channels if c in configured} if channels else configured
    missing = sorted(set(channels) - set(configured))
    if missing or not wanted:
        raise BazaarError(
            f"no delivery configured for {', '.join(missing) or 'any channel'}",
            exit_code=EXIT_BAD_ARGUMENT,
            hint="set BAZAAR_SMTP_HOST, BAZAAR_TELEGRAM_TOKEN_FILE or BAZAAR_SMS_URL (README)",
        )
    run = Worker(settings.worker_dsn(), wanted, batch=batch, poll=poll)
    if name:
        run.name = name
    # SIGTERM (supervisord, docker) and ^C: the message in hand is finished first
    previous = {sig: signal.signal(sig, lambda *_: run.stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        counts = run.run(until_idle=until_idle)
    finally:
        run.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if settings.json:
        print_object(vars(counts), True)
    else:
        click.echo(
            f"delivered {counts.delivered}, to retry {counts.retried}, set aside {counts.dead}, "
            f"possible duplicates {counts.possible_duplicates}"
        )
