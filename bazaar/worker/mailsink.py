"""The local stack's mail sink (the program `mail-sink`): an SMTP server on loopback that accepts
every message and writes it, as received, to a file of MAIL_DIR (`<UTC time>-<n>.eml`, 0600), so a
person trying the stack reads the e-mails the delivery worker sent (sign-in and reset codes, order
notices) without a real relay. Refuses nothing and relays nothing: not for production, where
BAZAAR_SMTP_HOST names the real relay."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from bazaar.jsonlog import log

MAX_MESSAGE = 10 * 1024 * 1024


class Sink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.serial = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{next(self.serial)}.eml"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        log("info", "mail kept", file=name, recipients=len(envelope.rcpt_tos))  # not who: personal data
        return "250 kept in the local mail sink"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bazaar-mail-sink", description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--dir", required=True, type=Path, help="where each message is written")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    args.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    controller = Controller(Sink(args.dir), hostname=host, port=int(port), data_size_limit=MAX_MESSAGE)
    controller.start()
    log("info", "mail sink listening", listen=args.listen, dir=str(args.dir))
    try:
        threading.Event().wait()  # until supervisord's SIGTERM
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
