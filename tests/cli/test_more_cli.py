"""The commands of bazaar/cli/more.py end to end: each calls its api function and shows what it
answers (the api's own behaviour is tested in tests/sql)."""

from __future__ import annotations

from tests.cli.conftest import Cli, one_line_error


def test_the_rest_of_the_api_from_the_cli(run: Cli) -> None:
    run.register("More Seller", "more-seller@example.com")
    run.register("More Buyer", "more-buyer@example.com")
    run.register("More Boss", "more-boss@example.com")
    run.json("user", "bootstrap-admin", "more-boss@example.com")
    seller, buyer, boss = (run.login(f"more-{who}@example.com") for who in ("seller", "buyer", "boss"))
    seller_id = run.json("user", "show", token=seller)["id"]
    buyer_id = run.json("user", "show", token=buyer)["id"]
    attributes = run.json("listing", "attributes", "brake-pads")
    assert {"part_number", "condition"} <= {a["name"] for a in attributes}
    models = run.json("listing", "models", "--make", "Toyota")
    camry = next(m["model_id"] for m in models if m["model"] == "Camry")
    listing = str(run.json(
        "listing", "create", "--kind", "part", "--category", "brake-pads", "--title", "Колодки для Camry",
        "--price", "2500", "--region", "Москва", "--city", "Москва", "--quantity", "2",
        "--attr", "part_number=CAM-1", "--attr", "condition=new", token=seller,
    )["listing_id"])  # fmt: skip
    run.json("listing", "publish", listing, token=seller)
    run.json("moderation", "approve", listing, token=boss)
    assert [h["to_status"] for h in run.json("listing", "history", listing, token=seller)][-1] == "published"
    run.json("listing", "fitment", listing, str(camry), "--from", "2015", "--to", "2020", token=seller)
    assert run.json("listing", "show", listing)["fitment"][0]["model"] == "Camry"
    run.json("listing", "fitment", listing, str(camry), "--from", "2015", "--remove", token=seller)
    assert run.json("listing", "show", listing)["fitment"] == []
    assert run.json("listing", "react", listing, "like", token=buyer)["like_count"] == 1
    run.json("listing", "price", listing, "2400", token=seller)
    assert [p["price_amount"] for p in run.json("listing", "prices", listing)] == [250000, 240000]
    run.json("listing", "contacts", listing, token=buyer)
    assert sum(d["contact_clicks"] for d in run.json("listing", "stats", listing, token=seller)) == 1
    assert any(f["listings"] >= 1 for f in run.json("facets", "колодки"))
    assert [r["listing_id"] for r in run.json("seller", "listings", str(seller_id))] == [int(listing)]

    saved = run.json(
        "saved-search", "add", "Колодки", "--query", "колодки", "--filter", "kind=part", token=buyer
    )
    assert [s["saved_search_id"] for s in run.json("saved-search", "list", token=buyer)] == [
        saved["saved_search_id"]
    ]
    run.json("saved-search", "delete", str(saved["saved_search_id"]), token=buyer)
    assert run.json("saved-search", "list", token=buyer) == []

    run.json("moderation", "promote", listing, "--until", "2099-01-01", token=boss)
    assert run.json("listing", "show", listing)["promoted"] is True
    run.json("moderation", "ad-insert", listing, "Скидка 10% на установку", token=boss)
    assert run.json("listing", "show", listing)["advertisement"] == "Скидка 10% на установку"
    campaign = run.json("moderation", "campaign", "brakes", "--title", "Неделя тормозов", "--body", "Скидки",
                        "--until", "2099-01-01", token=boss)  # fmt: skip
    assert campaign["campaign_id"] > 0
    one_line_error(run("moderation", "promote", listing, "--until", "2000-01-01", token=boss), 3)

    deal = run.json("deal", "record", str(buyer_id), token=seller)["deal_id"]
    run.json("deal", "confirm", str(deal), token=buyer)
    review = run.json("review", "seller", str(seller_id), "--rating", "4", "--text", "Хорошо", token=buyer)
    run.json("review", "edit", str(review["review_id"]), "--rating", "5", "--body", "Отлично", token=buyer)
    assert run.json("seller", "reviews", str(seller_id))[0]["rating"] == 5
    assert run.json("user", "channels", "email", token=buyer)["channels"] == ["email"]
    one_line_error(run("user", "channels", "sms", token=buyer), 3)  # no phone on this account
    shop = str(run.json("shop", "create", "More Shop", token=seller)["shop_id"])
    assert run.json("shop", "listings", shop) == []
