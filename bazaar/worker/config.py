"""The delivery worker's channels, from the environment (README, "The delivery worker"). A channel
is delivered when it is configured; its secret is read from a file (0600), never from the
environment or the command line, where `ps` and logs would show it.

    BAZAAR_SMTP_HOST, BAZAAR_SMTP_PORT (587), BAZAAR_SMTP_STARTTLS (1 or 0), BAZAAR_SMTP_USER,
    BAZAAR_SMTP_PASSWORD_FILE, BAZAAR_MAIL_FROM (noreply@<host>)
    BAZAAR_TELEGRAM_TOKEN_FILE, BAZAAR_TELEGRAM_API (https://api.telegram.org)
    BAZAAR_PHOTO_URL (channel posts with a photo: the photo is PHOTO_URL/<storage key>; unset: text)
    BAZAAR_LISTING_URL (the link under a channel post, with {id}: https://bazaar.example/l/{id})
    BAZAAR_SMS_URL, BAZAAR_SMS_KEY_FILE
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError
from bazaar.worker.senders import EmailSender, Sender, SmsSender, TelegramSender

TELEGRAM_API = "https://api.telegram.org"


def _secret(env: Mapping[str, str], name: str) -> str:
    path = env.get(name)
    if not path:
        raise BazaarError(
            f"{name} is not set: the secret is read from that file", exit_code=EXIT_BAD_ARGUMENT
        )
    try:
        value = Path(path).read_text().strip()
    except OSError as exc:
        raise BazaarError(
            f"cannot read {name} ({path}): {exc.strerror}", exit_code=EXIT_BAD_ARGUMENT
        ) from None
    if not value:
        raise BazaarError(f"{name} ({path}) is empty", exit_code=EXIT_BAD_ARGUMENT)
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name) or None
    if value is not None and not value.startswith(("http://", "https://")):
        raise BazaarError(f"{name} is not an http(s) URL: {value}", exit_code=EXIT_BAD_ARGUMENT)
    return value


def senders_from(env: Mapping[str, str]) -> list[Sender]:
    senders: list[Sender] = []
    host = env.get("BAZAAR_SMTP_HOST")
    if host:
        port = env.get("BAZAAR_SMTP_PORT", "587")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise BazaarError(f"BAZAAR_SMTP_PORT is not a port: {port}", exit_code=EXIT_BAD_ARGUMENT)
        user = env.get("BAZAAR_SMTP_USER") or None
        senders.append(
            EmailSender(
                host=host,
                port=int(port),
                sender=env.get("BAZAAR_MAIL_FROM") or f"noreply@{host}",
                starttls=env.get("BAZAAR_SMTP_STARTTLS", "1") not in ("0", "", "no", "false"),
                username=user,
                password=_secret(env, "BAZAAR_SMTP_PASSWORD_FILE") if user else None,
            )
        )
    if env.get("BAZAAR_TELEGRAM_TOKEN_FILE"):
        listing_url = _url(env, "BAZAAR_LISTING_URL")
        if listing_url and "{id}" not in listing_url:
            raise BazaarError(
                "BAZAAR_LISTING_URL must say where the listing id goes: {id}", exit_code=EXIT_BAD_ARGUMENT
            )
        senders.append(
            TelegramSender(
                _url(env, "BAZAAR_TELEGRAM_API") or TELEGRAM_API,
                _secret(env, "BAZAAR_TELEGRAM_TOKEN_FILE"),
                photo_url=_url(env, "BAZAAR_PHOTO_URL"),
                listing_url=listing_url,
            )
        )
    if env.get("BAZAAR_SMS_URL"):
        senders.append(SmsSender(env["BAZAAR_SMS_URL"], _secret(env, "BAZAAR_SMS_KEY_FILE")))
    return senders
