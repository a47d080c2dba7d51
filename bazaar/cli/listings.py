"""`bazaar listing …`, `bazaar search`, `bazaar moderation …`, `bazaar favorite …`: thin wrappers
around the api.* listing functions. Amounts are typed and shown in major units (1 500.00 RUB);
the database keeps minor units."""

from __future__ import annotations

import json
from typing import Any

import click
from psycopg.types.json import Jsonb

from bazaar.cli import (
    ID,
    Settings,
    call,
    cli,
    done,
    json_option,
    one,
    pass_settings,
    print_page,
    token_option,
)
from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError
from bazaar.output import minor_units, money, print_object, print_output


def _amount(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return minor_units(value)
    except ValueError as exc:
        raise BazaarError(f"{what}: {exc}", exit_code=EXIT_BAD_ARGUMENT) from None


def _pairs(items: tuple[str, ...], what: str) -> dict[str, Any]:
    """KEY=VALUE options; a VALUE that parses as JSON is taken as JSON (numbers, objects, null)."""
    result: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise BazaarError(f"{what} takes KEY=VALUE, not {item!r}", exit_code=EXIT_BAD_ARGUMENT)
        try:
            result[key] = json.loads(raw)
        except json.JSONDecodeError:
            result[key] = raw
    return result


def _category_id(settings: Settings, value: str | None) -> int | None:
    """A category given by id or by slug (brake-pads)."""
    if value is None or value.isdigit():
        return int(value) if value else None
    for row in call(settings, "categories"):
        if row["slug"] == value:
            return int(row["id"])
    raise BazaarError(
        f"unknown category {value!r}", exit_code=EXIT_BAD_ARGUMENT, hint="see `bazaar listing categories`"
    )


def _priced(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "price": money(r.get("price_amount"), r.get("currency"))} for r in rows]


# -- listings ----------------------------------------------------------------------------------


@cli.group()
def listing() -> None:
    """Listings: create, edit, publish, price, bump, archive."""


@listing.command("create")
@click.option("--kind", type=click.Choice(["car", "part", "service"]), required=True)
@click.option("--category", required=True, help="Category id or slug (see `bazaar listing categories`).")
@click.option("--title", required=True)
@click.option("--price", required=True, help="Unit price in major units, e.g. 1500 or 1500.50.")
@click.option("--region", required=True)
@click.option("--city", required=True)
@click.option("--description", default="")
@click.option("--currency", default="RUB", show_default=True)
@click.option("--brand")
@click.option("--model", "model_id", type=ID, help="Vehicle model id (required for cars).")
@click.option("--quantity", type=int, default=1, show_default=True)
@click.option("--wholesale-price", help="Price per unit from --wholesale-min units on.")
@click.option("--wholesale-min", type=int, help="Quantity the wholesale price applies from.")
@click.option("--shop", "shop_id", type=ID, help="Publish for this shop (you must be a member).")
@click.option("--contact-name")
@click.option("--contact-phone")
@click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE", help="Kind attribute; repeat.")
@click.option("--photo", "photos", multiple=True, metavar="KEY", help="Photo storage key, in order; repeat.")
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="A free tag (case does not matter); repeat."
)
@token_option
@json_option
@pass_settings
def listing_create(settings: Settings, /, **o: Any) -> None:
    """Create a draft listing; prints its id. Publish it with `bazaar listing publish`."""
    listing_id = one(
        settings,
        "create_listing",
        p_token=o["token"],
        p_kind=o["kind"],
        p_category_id=_category_id(settings, o["category"]),
        p_title=o["title"],
        p_price_amount=_amount(o["price"], "--price"),
        p_region=o["region"],
        p_city=o["city"],
        p_attributes=Jsonb(_pairs(o["attrs"], "--attr")),
        p_description=o["description"],
        p_currency=o["currency"],
        p_brand=o["brand"],
        p_model_id=o["model_id"],
        p_quantity=o["quantity"],
        p_wholesale_price_amount=_amount(o["wholesale_price"], "--wholesale-price"),
        p_wholesale_min_quantity=o["wholesale_min"],
        p_shop_id=o["shop_id"],
        p_contact_name=o["contact_name"],
        p_contact_phone=o["contact_phone"],
        p_photos=list(o["photos"]) or None,
        p_tags=list(o["tags"]) or None,
    )["create_listing"]
    done(settings, f"created draft listing {listing_id}", listing_id=listing_id)


@listing.command("show")
@click.argument("listing_id", type=ID)
@click.option("--token", envvar="BAZAAR_TOKEN", metavar="TOKEN", help="To see your own unpublished listing.")
@json_option
@pass_settings
def listing_show(settings: Settings, listing_id: int, token: str | None) -> None:
    """Everything a listing page shows."""
    card = one(settings, "listing_card", listing_id, token or None)
    if not settings.json:
        card["price"] = money(card.pop("price_amount"), card["currency"])
        card["wholesale_price"] = money(card.pop("wholesale_price_amount"), card["currency"])
    print_object(card, settings.json)


@listing.command("contacts")
@click.argument("listing_id", type=ID)
@click.option("--token", envvar="BAZAAR_TOKEN", metavar="TOKEN", help="Who is looking (or --fingerprint).")
@click.option("--fingerprint", help="An anonymous viewer's fingerprint.")
@click.option("--source", default="cli", show_default=True, help="Where the click came from.")
@json_option
@pass_settings
def listing_contacts(
    settings: Settings, listing_id: int, token: str | None, fingerprint: str | None, source: str
) -> None:
    """Show the seller's contacts (the click is logged for the seller)."""
    print_object(
        one(settings, "open_contacts", listing_id, token or None, fingerprint, source), settings.json
    )


@listing.command("list")
@click.option("--status", help="Only listings in this status.")
@token_option
@json_option
@pass_settings
def listing_list(settings: Settings, status: str | None, token: str) -> None:
    """Your listings, in any status."""
    rows = _priced(call(settings, "my_listings", token, status))
    print_output(["listing_id", "kind", "status", "title", "price", "sort_date"], rows, settings.json)


@listing.command("edit")
@click.argument("listing_id", type=ID)
@click.option(
    "--set",
    "changes",
    multiple=True,
    metavar="FIELD=VALUE",
    help="title, description, brand, model_id, region, city, quantity, contact_name, contact_phone, "
    "attributes (JSON), photos (JSON list). Repeat.",
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Replace the tags with these; repeat.")
@click.option("--clear-tags", is_flag=True, help="Remove every tag.")
@token_option
@json_option
@pass_settings
def listing_edit(
    settings: Settings,
    listing_id: int,
    changes: tuple[str, ...],
    tags: tuple[str, ...],
    clear_tags: bool,
    token: str,
) -> None:
    """Change some fields of a listing (--set, --tag)."""
    fields = _pairs(changes, "--set")
    if tags or clear_tags:
        fields["tags"] = list(tags)
    if not fields:
        raise click.UsageError("nothing to change: give --set FIELD=VALUE, --tag or --clear-tags")
    outcome = one(settings, "edit_listing", token, listing_id, Jsonb(fields))["edit_listing"]
    if outcome == "pending_review":
        message = f"listing {listing_id}: the changes wait for a moderator; buyers see the approved version"
    else:
        message = f"updated listing {listing_id}"
    done(settings, message, listing_id=listing_id, outcome=outcome)


def _status_command(name: str, function: str, help_text: str) -> None:
    @listing.command(name, help=help_text)
    @click.argument("listing_id", type=ID)
    @token_option
    @json_option
    @pass_settings
    def command(settings: Settings, listing_id: int, token: str) -> None:
        status = one(settings, function, token, listing_id)[function]
        done(settings, f"listing {listing_id} is {status}", listing_id=listing_id, status=status)


_status_command("publish", "submit_listing", "Send a listing to moderation (it is published once approved).")
_status_command("archive", "archive_listing", "Take a listing off the marketplace.")
_status_command("sold", "mark_listing_sold", "Mark a listing sold.")


@listing.command("bump")
@click.argument("listing_id", type=ID)
@token_option
@json_option
@pass_settings
def listing_bump(settings: Settings, listing_id: int, token: str) -> None:
    """Move a published listing to the top of the feed (limited to once per interval)."""
    one(settings, "bump_listing", token, listing_id)
    done(settings, f"bumped listing {listing_id}", listing_id=listing_id)


@listing.command("price")
@click.argument("listing_id", type=ID)
@click.argument("price", required=False)
@click.option("--wholesale-price", help="Price per unit from --wholesale-min units on.")
@click.option("--wholesale-min", type=int)
@click.option("--clear-wholesale", is_flag=True, help="Remove the wholesale tier.")
@token_option
@json_option
@pass_settings
def listing_price(
    settings: Settings,
    listing_id: int,
    price: str | None,
    wholesale_price: str | None,
    wholesale_min: int | None,
    clear_wholesale: bool,
    token: str,
) -> None:
    """Change the price and/or the wholesale tier (kept in the price history); what is left out
    stays as it is."""
    one(
        settings,
        "change_price",
        token,
        listing_id,
        _amount(price, "PRICE"),
        _amount(wholesale_price, "--wholesale-price"),
        wholesale_min,
        clear_wholesale,
    )
    done(settings, f"listing {listing_id}: price changed", listing_id=listing_id)


@listing.command("categories")
@json_option
@pass_settings
def listing_categories(settings: Settings) -> None:
    """The category tree."""
    rows = [{**r, "name": "  " * r["depth"] + r["name"]} for r in call(settings, "categories")]
    print_output(["id", "slug", "kind", "name"], rows, settings.json)


# -- search ------------------------------------------------------------------------------------


@cli.command("search")
@click.argument("query", required=False)
@click.option("--kind", type=click.Choice(["car", "part", "service"]))
@click.option("--category", help="Category id or slug; subcategories included.")
@click.option("--brand")
@click.option("--make", "make_id", type=ID, help="Vehicle make id.")
@click.option("--model", "model_id", type=ID, help="Vehicle model id (cars of it, parts that fit it).")
@click.option("--year", type=int)
@click.option("--price-min", help="In major units.")
@click.option("--price-max", help="In major units.")
@click.option("--currency", default="RUB", show_default=True)
@click.option("--region")
@click.option("--city")
@click.option("--condition", type=click.Choice(["new", "used"]))
@click.option("--seller-type", type=click.Choice(["shop", "private"]))
@click.option("--photos/--no-photos", "has_photos", default=None, help="Only with (or without) photos.")
@click.option("--tag", help="Only listings with this tag (case does not matter).")
@click.option("--sort", type=click.Choice(["newest", "price_asc", "price_desc", "relevance"]))
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--cursor", help="Continue after the page that printed it.")
@json_option
@pass_settings
def search(settings: Settings, /, query: str | None, **o: Any) -> None:
    """Search published listings (no sign-in needed)."""
    rows = call(
        settings,
        "search",
        p_query=query,
        p_kind=o["kind"],
        p_category_id=_category_id(settings, o["category"]),
        p_brand=o["brand"],
        p_make_id=o["make_id"],
        p_model_id=o["model_id"],
        p_year=o["year"],
        p_price_min=_amount(o["price_min"], "--price-min"),
        p_price_max=_amount(o["price_max"], "--price-max"),
        p_currency=o["currency"],
        p_region=o["region"],
        p_city=o["city"],
        p_condition=o["condition"],
        p_seller_type=o["seller_type"],
        p_has_photos=o["has_photos"],
        p_tag=o["tag"],
        p_sort=o["sort"],
        p_cursor=o["cursor"],
        p_limit=o["limit"],
    )
    rows = [
        {**r, "promoted": "*" if r["promoted"] else ""} if not settings.json else r for r in _priced(rows)
    ]
    print_output(["listing_id", "promoted", "title", "price", "city", "seller_type"] if not settings.json
                 else list(rows[0]) if rows else [], rows, settings.json)  # fmt: skip
    if rows and len(rows) == o["limit"] and not settings.json:
        click.echo(f"more: --cursor {rows[-1]['next_cursor']}", err=True)


# -- moderation --------------------------------------------------------------------------------


@cli.group()
def moderation() -> None:
    """The moderation queue (moderators and admins)."""


@moderation.command("queue")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--cursor", help="The next_cursor of the previous page.")
@click.option("--kind", type=click.Choice(["car", "part", "service"]))
@click.option("--category", "category_id", type=ID, help="A category id: it and its subcategories.")
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(0, 525600),
    metavar="MINUTES",
    help="Waiting at least this long.",
)
@token_option
@json_option
@pass_settings
def moderation_queue(
    settings: Settings,
    limit: int,
    cursor: str | None,
    kind: str | None,
    category_id: int | None,
    older_than: int | None,
    token: str,
) -> None:
    """New listings and changes to listings on sale waiting for moderation, oldest first."""
    rows = call(settings, "moderation_queue", token, limit, cursor, kind, category_id, older_than)
    for row in rows:
        row["what"] = "changes: " + ", ".join(sorted(row["changes"])) if row["revision_id"] else "new listing"
    columns = ["listing_id", "kind", "title", "what", "seller_id", "waiting_since"]
    print_page(settings, columns, rows, ["revision_id", "changes"])


@moderation.command("approve")
@click.argument("listing_id", type=ID)
@token_option
@json_option
@pass_settings
def moderation_approve(settings: Settings, listing_id: int, token: str) -> None:
    """Publish a listing, or approve the changes waiting on a listing on sale."""
    outcome = one(settings, "approve_listing", token, listing_id)["approve_listing"]
    what = "its changes are published" if outcome == "edit_approved" else "is published"
    done(settings, f"listing {listing_id}: {what}", listing_id=listing_id, outcome=outcome)


@moderation.command("reject")
@click.argument("listing_id", type=ID)
@click.option("--reason", required=True, help="What the seller should fix (3-500 characters).")
@token_option
@json_option
@pass_settings
def moderation_reject(settings: Settings, listing_id: int, reason: str, token: str) -> None:
    """Reject a listing, or the changes waiting on a listing on sale, with a reason."""
    outcome = one(settings, "reject_listing", token, listing_id, reason)["reject_listing"]
    what = "its changes are rejected" if outcome == "edit_rejected" else "is rejected"
    done(settings, f"listing {listing_id}: {what}", listing_id=listing_id, outcome=outcome)


# -- favorites ---------------------------------------------------------------------------------


@cli.group()
def favorite() -> None:
    """Your wish list."""


@favorite.command("add")
@click.argument("listing_id", type=ID)
@token_option
@json_option
@pass_settings
def favorite_add(settings: Settings, listing_id: int, token: str) -> None:
    """Save a listing."""
    count = one(settings, "add_favorite", token, listing_id)["add_favorite"]
    done(
        settings,
        f"saved listing {listing_id} ({count} people saved it)",
        listing_id=listing_id,
        favorites=count,
    )


@favorite.command("remove")
@click.argument("listing_id", type=ID)
@token_option
@json_option
@pass_settings
def favorite_remove(settings: Settings, listing_id: int, token: str) -> None:
    """Remove a saved listing."""
    one(settings, "remove_favorite", token, listing_id)
    done(settings, f"removed listing {listing_id} from your favorites", listing_id=listing_id)


@favorite.command("list")
@token_option
@json_option
@pass_settings
def favorite_list(settings: Settings, token: str) -> None:
    """Your saved listings, most recent first."""
    rows = _priced(call(settings, "favorites", token))
    print_output(["listing_id", "title", "status", "price", "city", "saved_at"], rows, settings.json)
