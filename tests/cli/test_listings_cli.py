"""`bazaar listing …`, `bazaar search`, `bazaar moderation …`, `bazaar favorite …` end to end."""

from __future__ import annotations

from tests.cli.conftest import Cli, one_line_error


def test_a_listing_from_draft_to_search_results(run: Cli) -> None:
    run.register("Seller", "seller@example.com")
    run.register("Moder", "moder@example.com")
    run.json("user", "bootstrap-admin", "moder@example.com")
    seller, moderator = run.login("seller@example.com"), run.login("moder@example.com")

    created = run.json(
        "listing", "create", "--kind", "part", "--category", "brake-pads",
        "--title", "Колодки Brembo передние", "--price", "4 990.50",
        "--region", "Москва", "--city", "Москва", "--brand", "Brembo",
        "--attr", "part_number=P 85 020", "--attr", "condition=new", "--photo", "p/1.jpg",
        "--tag", "Brembo", "--tag", "Оригинал", token=seller,
    )  # fmt: skip
    listing_id = str(created["listing_id"])
    assert run.json("listing", "publish", listing_id, token=seller)["status"] == "pending"
    queue = run.json("moderation", "queue", token=moderator)
    assert [r["listing_id"] for r in queue] == [created["listing_id"]]
    run.json("moderation", "approve", listing_id, token=moderator)

    card = run.json("listing", "show", listing_id)
    assert (card["status"], card["price_amount"], card["photos"]) == ("published", 499050, ["p/1.jpg"])
    table = run("listing", "show", listing_id)
    assert table.exit_code == 0 and "4 990.50 RUB" in table.stdout

    found = run.json("search", "колодка", "--category", "brakes", "--price-max", "5000")
    assert [r["listing_id"] for r in found] == [created["listing_id"]]
    assert run.json("search", "P85020")[0]["listing_id"] == created["listing_id"]  # part number
    assert run.json("search", "--price-max", "4990") == []
    assert card["tags"] == ["brembo", "оригинал"]
    assert [r["listing_id"] for r in run.json("search", "--tag", "ОРИГИНАЛ")] == [created["listing_id"]]
    one_line_error(run("search", "--tag", "!"), 3)

    run.json("listing", "price", listing_id, "4500", token=seller)
    run.json(
        "listing", "price", listing_id, "--wholesale-price", "4000", "--wholesale-min", "4", token=seller
    )
    assert run.json("listing", "show", listing_id)["price_amount"] == 450000  # left out: unchanged
    run.json("listing", "price", listing_id, "--clear-wholesale", token=seller)
    assert run.json("listing", "show", listing_id)["wholesale_price_amount"] is None
    assert "say what changes" in one_line_error(run("listing", "price", listing_id, token=seller), 3)
    edited = run.json("listing", "edit", listing_id, "--set", "title=Колодки Brembo P85020", "--set",
                      "quantity=3", token=seller)  # fmt: skip
    assert edited["outcome"] == "pending_review"  # on sale: the new title waits for a moderator
    shown = run.json("listing", "show", listing_id)
    assert shown["quantity"] == 3 and shown["title"] != "Колодки Brembo P85020"  # quantity at once
    queue = run.json("moderation", "queue", "--kind", "part", token=moderator)
    assert [(r["listing_id"], r["changes"]) for r in queue] == [
        (int(listing_id), {"title": "Колодки Brembo P85020"})
    ]
    assert run.json("moderation", "approve", listing_id, token=moderator)["outcome"] == "edit_approved"
    assert run.json("listing", "show", listing_id)["title"] == "Колодки Brembo P85020"
    run.json("listing", "edit", listing_id, "--tag", "Rare", token=seller)
    run.json("moderation", "approve", listing_id, token=moderator)
    assert run.json("listing", "show", listing_id)["tags"] == ["rare"]
    run.json("listing", "edit", listing_id, "--clear-tags", token=seller)
    run.json("moderation", "reject", listing_id, "--reason", "keep the tags", token=moderator)
    assert run.json("listing", "show", listing_id)["tags"] == ["rare"]  # rejected: as it was
    assert run("listing", "edit", listing_id, token=seller).exit_code == 2
    run.json("listing", "bump", listing_id, token=seller)
    assert run.json("favorite", "add", listing_id, token=moderator)["favorites"] == 1
    assert [r["listing_id"] for r in run.json("favorite", "list", token=moderator)] == [created["listing_id"]]
    run.json("favorite", "remove", listing_id, token=moderator)
    assert run.json("listing", "sold", listing_id, token=seller)["status"] == "sold"


def test_listing_refusals_map_to_exit_codes(run: Cli) -> None:
    run.register("Another Seller", "another@example.com")
    seller = run.login("another@example.com")
    base = ["listing", "create", "--kind", "part", "--category", "brake-pads", "--title", "Диски тормозные",
            "--region", "Москва", "--city", "Москва",
            "--attr", "part_number=DF4321", "--attr", "condition=new"]  # fmt: skip
    assert '"condition"' in one_line_error(
        run(*base[:-2], "--attr", "condition=broken", "--price", "1000", token=seller), 3
    )
    one_line_error(run(*base, "--price", "ten", token=seller), 3)
    one_line_error(run(*base, "--price", "10.001", token=seller), 3)
    one_line_error(run(*base, "--price", "1000", "--category", "no-such-category", token=seller), 3)
    listing_id = str(run.json(*base, "--price", "1000", token=seller)["listing_id"])
    one_line_error(run("moderation", "approve", listing_id, token=seller), 5)  # not a moderator
    one_line_error(run("listing", "sold", listing_id, token=seller), 6)  # draft -> sold is illegal
    one_line_error(run("listing", "show", listing_id), 4)  # a draft is not public
    one_line_error(run("search", "--limit", "0"), 3)
    bumped = run("listing", "bump", listing_id, token=seller)
    one_line_error(bumped, 6)  # only published listings are bumped


def test_a_shops_back_office_and_deals_from_the_cli(run: Cli) -> None:
    run.register("Owner", "owner@example.com")
    run.register("Clerk", "clerk@example.com")
    buyer_id = run.register("Buyer", "buyer@example.com")
    owner, buyer = run.login("owner@example.com"), run.login("buyer@example.com")
    shop = str(run.json("shop", "create", "Back Office CLI", token=owner)["shop_id"])
    invited = run.json("shop", "invite", shop, "CLERK@example.com", "--role", "manager", token=owner)
    assert invited["role"] == "manager"
    assert "no account" in one_line_error(run("shop", "invite", shop, "nobody@example.com", token=owner), 4)
    created = run.json(
        "listing", "create", "--kind", "part", "--category", "brake-pads", "--shop", shop,
        "--title", "Колодки для бэк-офиса", "--price", "1000", "--region", "Москва", "--city", "Москва",
        "--attr", "part_number=BO-1", "--attr", "condition=new", token=owner,
    )  # fmt: skip
    clerk = run.login("clerk@example.com")
    page = run.json("shop", "inventory", shop, token=clerk)
    assert [(r["listing_id"], r["status"]) for r in page] == [(created["listing_id"], "draft")]
    assert run.json("shop", "orders", shop, "--status", "paid", token=clerk) == []
    assert one_line_error(run("shop", "inventory", shop, "--cursor", "x", token=clerk), 3)
    assert run.json("deal", "list", token=buyer) == []
    deal = run.json("deal", "record", str(buyer_id), token=owner)["deal_id"]
    [row] = run.json("deal", "list", token=buyer)
    assert (row["deal_id"], row["side"], row["can_confirm"]) == (deal, "buyer", True)
    run.json("deal", "confirm", str(deal), token=buyer)
    assert run.json("deal", "list", token=buyer)[0]["can_review"] is True
