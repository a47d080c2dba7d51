"""`bazaar order | deal | review | chat | notify | outbox` end to end."""

from __future__ import annotations

import psycopg

from tests.cli.conftest import Cli, one_line_error


def test_order_deal_review_chat_and_outbox(run: Cli) -> None:
    run.register("Shop Keeper", "keeper@example.com")
    run.register("Buyer One", "buyer1@example.com")
    run.register("Boss", "boss@example.com")
    run.json("user", "bootstrap-admin", "boss@example.com")
    seller, buyer, boss = (
        run.login("keeper@example.com"),
        run.login("buyer1@example.com"),
        run.login("boss@example.com"),
    )
    buyer_id = run.json("user", "show", token=buyer)["id"]
    seller_id = run.json("user", "show", token=seller)["id"]
    listing = str(run.json(
        "listing", "create", "--kind", "part", "--category", "filters", "--title", "Фильтр масляный Mann",
        "--price", "650", "--region", "Москва", "--city", "Москва", "--quantity", "3",
        "--attr", "part_number=W 712/75", "--attr", "condition=new", token=seller,
    )["listing_id"])  # fmt: skip
    run.json("listing", "publish", listing, token=seller)
    run.json("moderation", "approve", listing, token=boss)

    placed = run.json("order", "create", listing, "--quantity", "2", "--key", "cart-1", token=buyer)
    again = run.json("order", "create", listing, "--quantity", "2", "--key", "cart-1", token=buyer)
    assert again["order_id"] == placed["order_id"] and again["created"] is False
    one_line_error(run("order", "create", listing, "--quantity", "2", token=buyer), 6)  # only 1 left
    run.json("order", "pay", str(placed["order_id"]), token=seller)
    shown = run.json("order", "show", str(placed["order_id"]), token=buyer)
    assert (shown["status"], shown["payment_status"], shown["total_amount"]) == ("paid", "paid", 130000)
    assert [o["order_id"] for o in run.json("order", "list", "--as", "seller", token=seller)] == [
        placed["order_id"]
    ]

    one_line_error(run("review", "seller", str(buyer_id), "--rating", "5", "--text", "Nice", token=seller), 6)
    run.json("review", "seller", str(seller_id), "--rating", "5", "--text", "Genuine filter", token=buyer)
    assert run.json("review", "rating", str(seller_id))["reviews"] == 1
    run.json("deal", "record", str(buyer_id), token=seller)

    message = run.json("chat", "post", listing, "Есть ещё?", token=buyer)["message_id"]
    assert [m["body"] for m in run.json("chat", "list", listing)] == ["Есть ещё?"]
    run.json("chat", "disable", listing, token=seller)
    assert run.json("chat", "list", listing) == []
    one_line_error(run("chat", "post", listing, "Hello?", token=buyer), 6)
    run.json("chat", "disable", listing, "--enable", token=seller)
    run.json("chat", "delete", str(message), token=buyer)
    assert run.json("chat", "list", listing) == []

    run.json("listing", "contacts", listing, token=buyer)
    assert run.json("notify", "clickers", listing, "Last filter, 600 ₽", token=seller)["people"] == 1

    claimed = run.json("outbox", "claim", "--worker", "cli-worker", "--batch", "100")
    expected = {"order_reserved", "order_paid", "review_request", "moderation_published", "seller_message"}
    assert claimed and {n["kind"] for n in claimed} <= expected
    run.json("outbox", "ack", "--worker", "cli-worker", *[str(n["notification_id"]) for n in claimed])
    stats = run.json("outbox", "stats")
    assert stats["delivered"] >= len(claimed) and stats["leased"] == 0


def test_cart_add_set_remove_show_and_checkout(run: Cli) -> None:
    run.register("Cart Seller", "cartseller@example.com")
    run.register("Cart Buyer", "cartbuyer@example.com")
    run.register("Cart Boss", "cartboss@example.com")
    with psycopg.connect(run.env["BAZAAR_ADMIN_DSN"], autocommit=True) as conn:  # a moderator, set directly
        conn.execute("update core.users set role = 'moderator' where email = 'cartboss@example.com'")
    seller, buyer = run.login("cartseller@example.com"), run.login("cartbuyer@example.com")
    boss = run.login("cartboss@example.com")
    made = []
    for i in range(2):
        listing = str(run.json(
            "listing", "create", "--kind", "part", "--category", "filters", "--title", f"Фильтр {i}",
            "--price", "100", "--region", "Москва", "--city", "Москва", "--quantity", "2",
            "--attr", f"part_number=CART {i}", "--attr", "condition=new", token=seller,
        )["listing_id"])  # fmt: skip
        run.json("listing", "publish", listing, token=seller)
        run.json("moderation", "approve", listing, token=boss)
        made.append(listing)
    assert run.json("cart", "add", made[0], token=buyer)["quantity"] == 1
    assert run.json("cart", "add", made[1], "--quantity", "3", token=buyer)["quantity"] == 3
    shown = run.json("cart", "show", token=buyer)
    assert [r["problem"] for r in shown] == [None, "not enough stock: 2 of 3 available"]
    assert "not enough stock" in run("cart", "show", token=buyer).stdout
    result = run("cart", "checkout", token=buyer)
    assert "cannot be reserved" in one_line_error(result, 6)
    run.json("cart", "set", made[1], "2", token=buyer)
    run.json("cart", "remove", made[0], token=buyer)
    one_line_error(run("cart", "remove", made[0], token=buyer), 4)
    one_line_error(run("cart", "add", made[0], "--quantity", "0", token=buyer), 3)
    [placed] = run.json("cart", "checkout", "--key", "c-1", token=buyer)
    assert (placed["line_count"], placed["total_amount"], placed["created"]) == (1, 20000, True)
    assert run.json("cart", "checkout", "--key", "c-1", token=buyer)[0]["created"] is False
    assert "1 x" not in run("order", "show", str(placed["order_id"]), token=buyer).stdout
    assert "2 x Фильтр 1" in run("order", "show", str(placed["order_id"]), token=buyer).stdout


def test_channel_create_pending_delivered_and_posts(run: Cli) -> None:
    run.register("Chan Seller", "chanseller@example.com")
    run.register("Chan Moder", "chanmoder@example.com")
    with psycopg.connect(run.env["BAZAAR_ADMIN_DSN"], autocommit=True) as conn:
        conn.execute("update core.users set role = 'moderator' where email = 'chanmoder@example.com'")
        conn.execute("update core.notifications set delivered_at = now() where channel_post_id is not null")
    seller, moderator = run.login("chanseller@example.com"), run.login("chanmoder@example.com")
    created = run.json("channel", "create", "Казань авто", "--chat-id", "-100777", "--region", "Казань",
                       token=moderator)  # fmt: skip
    assert [c["name"] for c in run.json("channel", "list", token=moderator)][-1] == "Казань авто"
    one_line_error(run("channel", "list", token=seller), 5)
    listing = str(run.json(
        "listing", "create", "--kind", "part", "--category", "filters", "--title", "Фильтр Казань",
        "--price", "300", "--region", "Казань", "--city", "Казань",
        "--attr", "part_number=KZN 1", "--attr", "condition=new", token=seller,
    )["listing_id"])  # fmt: skip
    run.json("listing", "publish", listing, token=seller)
    run.json("moderation", "approve", listing, token=moderator)
    pending = run.json("channel", "pending", "--worker", "tg")
    assert [(p["kind"], p["destination"], p["title"]) for p in pending] == [
        ("channel_post", "-100777", "Фильтр Казань")]  # fmt: skip
    run.json("channel", "delivered", str(pending[0]["notification_id"]), "42", "--worker", "tg")
    run.json("listing", "price", listing, "250", token=seller)
    [post] = run.json("channel", "posts", listing)
    assert (post["telegram_message_id"], post["differences"]) == (42, ["price_amount"])
    assert run.json("channel", "pending", "--worker", "tg") == []
    one_line_error(run("channel", "delivered", "999999", "1", "--worker", "tg"), 4)
    run.json("channel", "activate", str(created["channel_id"]), "--off", token=moderator)


def test_dead_letters_are_listed_read_and_put_back(run: Cli) -> None:
    user = run.register("Dead Letter", "deadletter@example.com")
    with psycopg.connect(run.env["BAZAAR_ADMIN_DSN"], autocommit=True) as conn:
        conn.execute("update core.notifications set delivered_at = now() where delivered_at is null")
        conn.execute("select core.notify(%s, 'password_reset_code', '{\"code\": \"123456\"}')", [user])
        conn.execute("set role bazaar_worker")
        [(notification_id,)] = conn.execute(
            "select notification_id from api.claim_notifications('cli-worker', 10)"
        ).fetchall()
        conn.execute(
            "select api.fail_notification(%s, 'cli-worker', 'SMTP 550: mailbox unavailable', true)",
            [notification_id],
        )
    letters = run.json("outbox", "dead-letters")
    assert [(d["notification_id"], d["last_error"]) for d in letters] == [
        (notification_id, "SMTP 550: mailbox unavailable")
    ]
    letter = run.json("outbox", "dead-letter", str(notification_id))
    assert letter["kind"] == "password_reset_code" and "code" not in letter["payload"]
    assert run.json("outbox", "retry", str(notification_id)) == {"ok": True, "retried": 1}
    assert run.json("outbox", "dead-letters") == []
    one_line_error(run("outbox", "retry", str(notification_id)), 4)  # no longer a dead letter
    assert run("outbox", "dead-letters", "--limit", "0").exit_code == 2  # click's range: a usage error
