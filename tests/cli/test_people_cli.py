"""`bazaar user …` and `bazaar shop …` end to end: the CLI connects as bazaar_app to a database
of its own (migrated from the repository), exactly as an application would."""

from __future__ import annotations

import json

import psycopg

from tests.cli.conftest import PASSWORD, Cli, one_line_error
from tests.harness import ServerUnderTest


def test_register_login_show_and_shop_lifecycle(run: Cli) -> None:
    owner_id = run.register("Olga Owner", "olga@example.com")
    seller_id = run.register("Sergey Seller", "sergey@example.com")
    owner = run.login("OLGA@example.com")
    me = run.json("user", "show", token=owner)
    assert (me["id"], me["email"], me["role"]) == (owner_id, "olga@example.com", "user")
    assert run.json("user", "show", str(seller_id))["display_name"] == "Sergey Seller"

    shop_id = run.json("shop", "create", "Olga Parts", "--description", "Brake pads", token=owner)["shop_id"]
    run.json("shop", "add-member", str(shop_id), str(seller_id), "--role", "seller", token=owner)
    members = run.json("shop", "members", str(shop_id), token=owner)
    assert {(m["user_id"], m["role"]) for m in members} == {(owner_id, "owner"), (seller_id, "seller")}
    table = run("shop", "members", str(shop_id), token=owner)
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split() == [
        "USER_ID",
        "DISPLAY_NAME",
        "ROLE",
        "ADDED_AT",
    ]
    run.json("shop", "remove-member", str(shop_id), str(seller_id), token=owner)
    assert [m["user_id"] for m in run.json("shop", "members", str(shop_id), token=owner)] == [owner_id]
    assert run.json("shop", "show", str(shop_id))["members"] == 1


def test_refusals_are_one_line_with_the_documented_exit_code(run: Cli) -> None:
    run.register("Petr", "petr@example.com")
    # wrong password: a recorded failure, reported like an error
    assert "wrong login or password" in one_line_error(
        run("user", "login", "petr@example.com", "--password", "nope-nope"), 5
    )
    one_line_error(
        run("user", "register", "--name", "X", "--email", "not-an-email", "--password", PASSWORD), 3
    )
    one_line_error(
        run("user", "register", "--name", "Petr 2", "--email", "PETR@example.com", "--password", PASSWORD), 6
    )
    one_line_error(run("user", "show", "--token", "f" * 64), 5)
    one_line_error(run("user", "show", "999999999"), 4)
    token = run.login("petr@example.com")
    one_line_error(run("user", "block", "1", "--reason", "spam", token=token), 5)


def test_json_errors_carry_the_sqlstate(run: Cli) -> None:
    result = run("--json", "shop", "members", "1", "--token", "0" * 64)
    assert result.exit_code == 5
    assert json.loads(result.stdout)["sqlstate"] == "28000"


def test_password_is_prompted_when_not_given(run: Cli) -> None:
    result = run(
        "user",
        "register",
        "--name",
        "Prompted",
        "--email",
        "prompted@example.com",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.stderr
    login = run("user", "login", "prompted@example.com", input=f"{PASSWORD}\n")
    assert login.exit_code == 0 and len(login.stdout.strip()) == 64


def test_bootstrap_admin_then_admin_powers(run: Cli) -> None:
    founder = run.register("Founder", "founder@example.com")
    target = run.register("Troll", "troll@example.com")
    assert run.json("user", "bootstrap-admin", "founder@example.com")["user_id"] == founder
    one_line_error(run("user", "bootstrap-admin", "troll@example.com"), 6)
    admin = run.login("founder@example.com")
    troll = run.login("troll@example.com")
    run.json("user", "block", str(target), "--reason", "insults buyers", token=admin)
    one_line_error(run("user", "show", token=troll), 5)
    log = run.json("user", "audit-log", "--limit", "5", token=admin)
    assert [e["action"] for e in log][:2] == ["block_user", "bootstrap_admin"]
    run.json("user", "unblock", str(target), token=admin)
    run.json("user", "promote", str(target), "--role", "moderator", token=admin)
    assert run.json("user", "show", str(target))["role"] == "moderator"


def test_telegram_code_sign_in_from_the_cli(run: Cli, server: ServerUnderTest) -> None:
    user_id = int(
        run.json("user", "register", "--name", "Tg", "--phone", "+79990001122", "--password", PASSWORD)[
            "user_id"
        ]
    )
    token = run.login("+79990001122")
    with psycopg.connect(run.env["BAZAAR_DSN"], autocommit=True) as conn:
        conn.execute("select api.link_telegram(%s, 5550001, '+79990001122')", [token])
    assert run.json("user", "request-code", "+7 999 000-11-22")["expires_at"]
    # the Telegram bot (a delivery worker) takes the code from the outbox and sends it to the chat
    queued = [
        n for n in run.json("outbox", "claim", "--worker", "telegram-bot") if n["kind"] == "sign_in_code"
    ]
    assert [(n["channel"], n["destination"]) for n in queued] == [("telegram", "5550001")]
    code = queued[0]["payload"]["code"]
    run.json("outbox", "ack", "--worker", "telegram-bot", str(queued[0]["notification_id"]))
    signed_in = run.json("user", "login", "+79990001122", "--code", code)
    assert signed_in["user_id"] == user_id
    wrong = "000000" if code != "000000" else "111111"
    run("user", "request-code", "+79990001122")  # too soon: refused, the old code is still the newest
    assert "code" in one_line_error(run("user", "login", "+79990001122", "--code", wrong), 5)


def test_change_forget_and_reset_a_password(run: Cli) -> None:
    run.register("Irina", "irina@example.com")
    token = run.login("irina@example.com")
    other = run.login("irina@example.com")
    changed = run.json(
        "user", "change-password", "--current-password", PASSWORD, "--new-password", "second-secret",
        token=token,
    )  # fmt: skip
    assert changed == {"ok": True, "sessions_ended": 1}
    one_line_error(run("user", "show", token=other), 5)  # the other session ended (28000)
    wrong = run("user", "change-password", "--current-password", "nope-nope",
                "--new-password", "third-secret", token=token)  # fmt: skip
    assert one_line_error(wrong, 5) == "error: the current password is wrong"

    asked = run.json("user", "forgot-password", "irina@example.com")
    assert "expires_at" in asked
    unknown = run.json("user", "forgot-password", "nobody@example.com")
    assert unknown.keys() == asked.keys()  # the same answer
    with psycopg.connect(run.env["BAZAAR_ADMIN_DSN"]) as admin:
        row = admin.execute(
            "select payload ->> 'code' from core.notifications where kind = 'password_reset_code' "
            "order by id desc limit 1"
        ).fetchone()
    assert row is not None
    bad = run("user", "reset-password", "irina@example.com", "--code", "12345", "--new-password", "x" * 10)
    assert one_line_error(bad, 3) == "error: the code is six digits"
    reset = run.json(
        "user", "reset-password", "irina@example.com", "--code", row[0], "--new-password", "third-secret"
    )
    assert reset == {"ok": True, "sessions_ended": 1}
    assert run.json("user", "login", "irina@example.com", "--password", "third-secret")["user_id"] > 0


def test_a_link_to_connect_telegram(run: Cli) -> None:
    run.register("Gleb", "gleb@example.com")
    token = run.login("gleb@example.com")
    pw = ("--current-password", PASSWORD)
    linked = run.json("user", "link-telegram", *pw, "--bot", "@bazaar_test_bot", token=token)
    assert linked["link"] == f"https://t.me/bazaar_test_bot?start={linked['link_token']}"
    assert len(linked["link_token"]) == 32 and linked["expires_at"]
    plain = run("user", "link-telegram", *pw, token=token)
    assert plain.exit_code == 0 and plain.output.startswith("send the bot: /start ")
    wrong = run("user", "link-telegram", "--current-password", "not-it-at-all", token=token)
    assert one_line_error(wrong, 5) == "error: the current password is wrong"
    assert one_line_error(run("user", "link-telegram", *pw, "--bot", "no", token=token), 3).startswith(
        "error:"
    )
    for _ in range(3):
        run("user", "link-telegram", *pw, token=token)
    assert "hour" in one_line_error(run("user", "link-telegram", *pw, token=token), 5)  # BZ429
