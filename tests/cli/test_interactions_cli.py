"""`bazaar order | deal | review | chat | notify | outbox` end to end."""

from __future__ import annotations

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
