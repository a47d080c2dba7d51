"""`bazaar cart add | set | remove | show | checkout`: thin wrappers around the api.* cart
functions; checkout reserves every line or none (ADR 0008)."""

from __future__ import annotations

import click

from bazaar.cli import ID, Settings, call, cli, done, json_option, one, pass_settings, token_option
from bazaar.output import money, print_output


@cli.group()
def cart() -> None:
    """Your cart: collect listings, then check out into one order per seller."""


@cart.command("add")
@click.argument("listing_id", type=ID)
@click.option("--quantity", type=int, default=1, show_default=True)
@token_option
@json_option
@pass_settings
def cart_add(settings: Settings, listing_id: int, quantity: int, token: str) -> None:
    """Put units of a listing in the cart (added to what is there)."""
    now = one(settings, "cart_add", token, listing_id, quantity)["cart_add"]
    done(settings, f"listing {listing_id}: {now} unit(s) in the cart", listing_id=listing_id, quantity=now)


@cart.command("set")
@click.argument("listing_id", type=ID)
@click.argument("quantity", type=int)
@token_option
@json_option
@pass_settings
def cart_set(settings: Settings, listing_id: int, quantity: int, token: str) -> None:
    """Change the quantity of a listing in the cart."""
    one(settings, "cart_set", token, listing_id, quantity)
    done(
        settings,
        f"listing {listing_id}: {quantity} unit(s) in the cart",
        listing_id=listing_id,
        quantity=quantity,
    )


@cart.command("remove")
@click.argument("listing_id", type=ID)
@token_option
@json_option
@pass_settings
def cart_remove(settings: Settings, listing_id: int, token: str) -> None:
    """Take a listing out of the cart."""
    one(settings, "cart_remove", token, listing_id)
    done(settings, f"listing {listing_id} is out of the cart", listing_id=listing_id)


@cart.command("show")
@token_option
@json_option
@pass_settings
def cart_show(settings: Settings, token: str) -> None:
    """The cart with current prices, availability and what would stop a checkout."""
    rows = [{**r, "amount": money(r["line_amount"], r["currency"])} for r in call(settings, "cart", token)]
    columns = ["listing_id", "title", "seller_id", "quantity", "wholesale", "available", "problem"]
    if settings.json:
        columns += ["shop_id", "unit_price_amount", "line_amount", "currency", "listing_status"]
    else:
        columns.insert(4, "amount")
    print_output(columns, rows, settings.json)


@cart.command("checkout")
@click.option("--key", "idempotency_key", help="Idempotency key: repeating it returns the same orders.")
@token_option
@json_option
@pass_settings
def cart_checkout(settings: Settings, idempotency_key: str | None, token: str) -> None:
    """Reserve every line in one go (or none) as one order per seller."""
    rows = [
        {**r, "total": money(r["total_amount"], r["currency"])}
        for r in call(settings, "checkout", token, idempotency_key)
    ]
    columns = ["order_id", "seller_id", "shop_id", "line_count", "total", "reserved_until", "created"]
    if settings.json:
        columns += ["total_amount", "currency"]
    print_output(columns, rows, settings.json)
