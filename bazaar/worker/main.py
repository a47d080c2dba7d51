"""Running the delivery worker, from `bazaar worker` (the CLI) and from `python -m bazaar.worker`
(the stack's program, whose daemon venv has no CLI dependencies): the channels configured in the
environment, the ones asked for, and SIGTERM/SIGINT ending the run after the message in hand."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import replace

import httpx

from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError
from bazaar.worker import config
from bazaar.worker.bot import Bot
from bazaar.worker.loop import Counts, Worker, channels_of
from bazaar.worker.senders import TelegramSender


def serve(
    dsn: str,
    channels: Sequence[str] = (),
    name: str | None = None,
    batch: int = 20,
    poll: float = 1.0,
    until_idle: bool = False,
    bot: bool = True,
) -> Counts:
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
    run = Worker(dsn, wanted, batch=batch, poll=poll)
    if name:
        run.name = name
    # the bot's updates, beside the deliveries (one worker of all reads them: a lease decides)
    telegram = wanted.get("telegram")
    reader: threading.Thread | None = None
    if bot and not until_idle and isinstance(telegram, TelegramSender):
        # its own client: a long poll must not hold up the deliveries' connection
        updates = Bot(dsn, replace(telegram, client=httpx.Client()), run.name, stop=run.stop)
        reader = threading.Thread(target=updates.run, name="telegram-bot", daemon=True)
        reader.start()
    # SIGTERM (supervisord, docker) and ^C: the message in hand is finished first
    previous = {sig: signal.signal(sig, lambda *_: run.stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return run.run(until_idle=until_idle)
    finally:
        run.stop.set()
        if reader is not None:
            # an open getUpdates is abandoned: the updates it brings are read again next time
            reader.join(2.0)
        run.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
