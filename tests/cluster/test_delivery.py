"""The delivery worker as a program of the stack: a password reset asked for through the api
reaches the person's mailbox (the stack's mail sink) through the outbox, the delivery worker and
PgBouncer, and the code in that e-mail resets the password."""

from __future__ import annotations

import re
import secrets
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from bazaar.stack.layout import ServerRoot
from bazaar.stack.processes import poll
from tests.cluster.conftest import StackUnderTest


def mails_to(mail_dir: Path, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        if mail["To"] == address:
            found.append(mail)
    return found


def test_a_reset_code_arrives_by_email_and_resets_the_password(stack: StackUnderTest) -> None:
    email = f"reset-{secrets.token_hex(4)}@example.com"
    registered = stack.bazaar("user", "register", "--name", "Mail Reader", "--email", email,
                              "--channel", "email", "--password", "first-secret-1")  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    asked = stack.bazaar("user", "forgot-password", email)
    assert asked.returncode == 0, asked.stderr

    mail_dir = ServerRoot(stack.local.server_root()).mail_dir
    [mail] = poll(lambda: mails_to(mail_dir, email) or None, 60, "the reset e-mail in the mail sink")
    assert mail["Subject"] == "Сброс пароля" and mail["From"] == "noreply@bazaar.local"
    body = mail.get_body(("plain",))
    assert body is not None
    code = re.search(r"\b(\d{6})\b", body.get_content())
    assert code, body.get_content()
    # the delivery was recorded with the message's own id, and the files are the server user's only
    with stack.connect(stack.local.admin_dsn()) as admin:
        row = admin.execute(
            "select n.provider_message_id from core.notifications as n "
            "join core.users as u on u.id = n.user_id "
            "where u.email = %s and n.kind = 'password_reset_code' and n.delivered_at is not null",
            [email],
        ).fetchone()
    assert row == (mail["Message-ID"],)
    assert mail_dir.stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in mail_dir.glob("*.eml"))

    reset = stack.bazaar(
        "user", "reset-password", email, "--code", code[1], "--new-password", "second-secret-2"
    )
    assert reset.returncode == 0, reset.stderr + reset.stdout
    login = stack.bazaar("user", "login", email, "--password", "second-secret-2")
    assert login.returncode == 0, login.stderr
