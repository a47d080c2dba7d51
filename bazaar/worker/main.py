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
from bazaar.worker.senders import TIMEOUT, TelegramSender


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
    telegram = wanted.get("telegram")
    threads: list[threading.Thread] = []
    posting: threading.Thread | None = None
    workers = [run]
    posted = Counts()
    if isinstance(telegram, TelegramSender):
        run.targets = "users"
        # channel posts on a thread of their own, in batches of 5: a busy channel's pace (20 a
        # minute) holds up neither the users' messages nor more leases than it can use
        posts = Worker(
            dsn,
            {"telegram": replace(telegram, client=httpx.Client(timeout=TIMEOUT))},
            name=f"{run.name}.posts",
            batch=5,
            poll=poll,
            stop=run.stop,
            targets="posts",
        )
        workers.append(posts)
        posting = threading.Thread(
            target=lambda: posted.add(posts.run(until_idle=until_idle)), name="channel-posts"
        )
        threads.append(posting)
        if bot and not until_idle:
            # the bot's updates (one worker of all reads them: a lease decides); its own client,
            # a long poll must not hold up a delivery
            updates = Bot(dsn, replace(telegram, client=httpx.Client()), run.name, stop=run.stop)
            threads.append(threading.Thread(target=updates.run, name="telegram-bot", daemon=True))
    for thread in threads:
        thread.start()
    # SIGTERM (supervisord, docker) and ^C: the message in hand is finished first
    previous = {sig: signal.signal(sig, lambda *_: run.stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        total = run.run(until_idle=until_idle)
        if until_idle and posting is not None:
            posting.join()  # the posts, until they are idle too
        total.add(posted)
        return total
    finally:
        run.stop.set()
        # the posts finish the one in hand; an open getUpdates is abandoned (what it brings is
        # read again next time)
        for thread in threads:
            thread.join(15.0 if thread is posting else 2.0)
        for worker in workers:
            worker.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
