"""One request id followed end to end on the live stack: a CLI command run with BAZAAR_REQUEST_ID
logs it in its JSON log line, PostgreSQL's jsonlog carries it (application_name) in the line the
call wrote, the audit log row and the notification the call wrote hold it — and the call's
token appears in no log."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from bazaar.stack.layout import NODES, ServerRoot
from bazaar.stack.processes import poll
from tests.cluster.conftest import StackUnderTest

PASSWORD = "request-id-Pa55"


def cli(stack: StackUnderTest, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bazaar", *args],
        cwd=stack.private_cwd,
        env={**stack.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def cli_json(stack: StackUnderTest, *args: str, **env: str) -> Any:
    return json.loads(cli(stack, "--json", *args, **env).stdout)


def server_log_lines(stack: StackUnderTest) -> list[dict[str, Any]]:
    """Every jsonlog line of every node (log/postgresql-<node>/postgresql-<weekday>.json)."""
    log_dir = ServerRoot(stack.local.server_root()).log_dir
    lines = []
    for node in NODES:
        for path in sorted(Path(log_dir / f"postgresql-{node}").glob("postgresql-*.json")):
            lines += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def test_a_request_id_goes_from_the_cli_through_the_server_log_and_audit_log_to_the_outbox(
    stack: StackUnderTest,
) -> None:
    tag = secrets.token_hex(4)
    seller_email, moderator_email = f"seller-{tag}@example.com", f"moderator-{tag}@example.com"
    for name, email in (("Request Seller", seller_email), ("Request Moderator", moderator_email)):
        cli(stack, "user", "register", "--name", name, "--email", email, "--password", PASSWORD)
    with stack.connect(stack.local.admin_dsn()) as admin:
        admin.execute("update core.users set role = 'moderator' where email = %s", [moderator_email])
        row = admin.execute("select id from core.users where email = %s", [seller_email]).fetchone()
        assert row is not None
        seller_id = row[0]
    seller = cli_json(stack, "user", "login", seller_email, "--password", PASSWORD)["token"]
    moderator = cli_json(stack, "user", "login", moderator_email, "--password", PASSWORD)["token"]
    listing = cli_json(
        stack, "listing", "create", "--kind", "part", "--category", "brake-pads", "--title", "Колодки TRW",
        "--price", "2500", "--region", "Москва", "--city", "Москва",
        "--attr", "part_number=GDB1550", "--attr", "condition=new",
        BAZAAR_TOKEN=seller,
    )["listing_id"]  # fmt: skip
    cli(stack, "listing", "publish", str(listing), BAZAAR_TOKEN=seller)

    request_id = f"it-{tag}-approve"
    approved = cli(
        stack, "--log-format", "json", "moderation", "approve", str(listing),
        BAZAAR_TOKEN=moderator, BAZAAR_REQUEST_ID=request_id,
    )  # fmt: skip
    # 1. the CLI's own log line: the command's names, its exit code, the request id
    finished = [json.loads(line) for line in approved.stderr.splitlines()][-1]
    assert finished["request_id"] == request_id and finished["level"] == "info"
    assert finished["command"] == "bazaar moderation approve" and finished["exit_code"] == 0

    # 2. the database: the audit log row and the seller's notification, both of that call
    with stack.connect(stack.local.admin_dsn()) as admin:
        audit = admin.execute(
            "select id, request_id from core.audit_log where action = 'approve_listing' "
            "and details ->> 'listing_id' = %s::text",
            [listing],
        ).fetchall()
        notified = admin.execute(
            "select request_id from core.notifications where user_id = %s and kind = 'moderation_published'",
            [seller_id],
        ).fetchall()
        earlier = admin.execute(  # the seller's own earlier calls carried ids of their own
            "select count(*) from core.notifications where user_id = %s and request_id = %s and "
            "kind <> 'moderation_published'",
            [seller_id, request_id],
        ).fetchone()
    assert [r[1] for r in audit] == [request_id]
    assert {r[0] for r in notified} == {request_id} and len(notified) >= 1
    assert earlier == (0,)

    # 3. the server log: the line the call wrote (jsonlog, on the leader), with the id
    def logged() -> list[dict[str, Any]]:
        return [
            line for line in server_log_lines(stack) if line.get("application_name") == f"bazaar/{request_id}"
        ]

    lines = poll(lambda: logged() or None, 30, "the call's line in PostgreSQL's jsonlog")
    assert [line["message"] for line in lines] == [f"audit: approve_listing (audit_log {audit[0][0]})"]
    assert lines[0]["user"] == "bazaar_app" and lines[0]["error_severity"] == "LOG"

    # 4. no token, password or argument of those calls in any server log line
    text = json.dumps(server_log_lines(stack))
    assert moderator not in text and seller not in text and PASSWORD not in text
    assert "GDB1550" not in text
