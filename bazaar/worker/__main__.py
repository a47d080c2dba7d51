"""`python -m bazaar.worker --dsn DSN`: the delivery worker as the stack's program runs it."""

from __future__ import annotations

import argparse
import sys

from bazaar.errors import BazaarError
from bazaar.jsonlog import log
from bazaar.worker.main import serve


def main() -> int:
    parser = argparse.ArgumentParser(prog="bazaar-delivery-worker", description=__doc__)
    parser.add_argument("--dsn", required=True, help="as bazaar_worker, with a passfile")
    parser.add_argument("--name")
    parser.add_argument("--channel", action="append", default=[], choices=["telegram", "email", "sms"])
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--no-bot", action="store_true", help="do not read the Telegram bot's updates")
    args = parser.parse_args()
    try:
        serve(args.dsn, args.channel, args.name, args.batch, args.poll, bot=not args.no_bot)
    except BazaarError as exc:
        log("error", exc.message)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
