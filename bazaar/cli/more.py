"""The rest of the api an operator or a tester reaches for: a listing's history, stats, prices,
reactions and fitments; the catalog's attributes and vehicle models; facets; a seller's and a
shop's public listings and reviews; saved searches; promotion, advertising inserts and campaigns;
editing a review and choosing notification channels. Thin wrappers like the rest
(tests/cli/test_cli_covers_api.py fails when an api function has no command)."""

from __future__ import annotations

from datetime import datetime

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
from bazaar.cli.interactions import review
from bazaar.cli.listings import _category_id, _pairs, listing, moderation
from bazaar.cli.people import shop, user
from bazaar.output import print_output

# -- a listing ---------------------------------------------------------------------------------


@listing.command("history")
@click.argument("listing_id", type=ID)
@token_option
@json_option
@pass_settings
def listing_history(settings: Settings, listing_id: int, token: str) -> None:
    """Every status a listing went through (its seller side and staff)."""
    rows = call(settings, "listing_history", token, listing_id)
    print_output(["changed_at", "from_status", "to_status", "changed_by", "reason"], rows, settings.json)


@listing.command("stats")
@click.argument("listing_id", type=ID)
@click.option("--days", type=click.IntRange(1, 400), default=30, show_default=True)
@token_option
@json_option
@pass_settings
def listing_stats(settings: Settings, listing_id: int, days: int, token: str) -> None:
    """Contact clicks per day (its seller side)."""
    print_output(
        ["day", "contact_clicks"], call(settings, "listing_stats", token, listing_id, days), settings.json
    )


@listing.command("prices")
@click.argument("listing_id", type=ID)
@json_option
@pass_settings
def listing_prices(settings: Settings, listing_id: int) -> None:
    """Every price of a public listing, oldest first."""
    rows = call(settings, "price_history", listing_id)
    columns = ["changed_at", "price_amount", "currency", "wholesale_price_amount", "wholesale_min_quantity"]
    print_output(columns, rows, settings.json)


@listing.command("react")
@click.argument("listing_id", type=ID)
@click.argument("reaction", type=click.Choice(["like", "dislike"]))
@token_option
@json_option
@pass_settings
def listing_react(settings: Settings, listing_id: int, reaction: str, token: str) -> None:
    """Like or dislike a listing; the same again takes it back."""
    row = one(settings, "react", token, listing_id, reaction)
    done(
        settings,
        f"listing {listing_id}: {row['reaction'] or 'no reaction'} ({row['like_count']} likes, "
        f"{row['dislike_count']} dislikes)",
        **row,
    )


@listing.command("fitment")
@click.argument("listing_id", type=ID)
@click.argument("model_id", type=ID)
@click.option("--from", "year_from", type=int, required=True, help="First model year it fits.")
@click.option("--to", "year_to", type=int, help="Last model year it fits (add only).")
@click.option("--remove", is_flag=True, help="Remove the fitment that starts at --from.")
@token_option
@json_option
@pass_settings
def listing_fitment(
    settings: Settings,
    listing_id: int,
    model_id: int,
    year_from: int,
    year_to: int | None,
    remove: bool,
    token: str,
) -> None:
    """Say which vehicles a part fits (or no longer fits)."""
    if remove:
        one(settings, "remove_fitment", token, listing_id, model_id, year_from)
    else:
        one(settings, "add_fitment", token, listing_id, model_id, year_from, year_to)
    done(settings, f"listing {listing_id}: fitment {'removed' if remove else 'added'}", listing_id=listing_id)


@listing.command("attributes")
@click.argument("category")
@json_option
@pass_settings
def listing_attributes(settings: Settings, category: str) -> None:
    """The attributes a listing of a category takes (and which are required)."""
    rows = call(settings, "category_attributes", _category_id(settings, category))
    print_output(["name", "label", "value_type", "required", "allowed_values"], rows, settings.json)


@listing.command("models")
@click.option("--make", help="Only this make.")
@json_option
@pass_settings
def listing_models(settings: Settings, make: str | None) -> None:
    """The vehicle catalog: makes and models with their ids."""
    print_output(
        ["make_id", "make", "model_id", "model"], call(settings, "vehicle_models", make), settings.json
    )


@cli.command("facets")
@click.argument("query", required=False)
@click.option("--kind", type=click.Choice(["car", "part", "service"]))
@click.option("--category", help="Category id or slug; subcategories included.")
@json_option
@pass_settings
def facets(settings: Settings, query: str | None, kind: str | None, category: str | None) -> None:
    """How many listings a search finds, by category, brand, region and price range."""
    rows = call(settings, "search_facets", query, kind, _category_id(settings, category))
    print_output(["facet", "key", "label", "listings"], rows, settings.json)


@cli.command("places")
@click.option("--kind", type=click.Choice(["car", "part", "service"]))
@click.option("--region", help="The cities of this region (else the regions).")
@json_option
@pass_settings
def places(settings: Settings, kind: str | None, region: str | None) -> None:
    """Regions (or a region's cities) with listings on sale, the most first: the names the
    region and city filters take."""
    rows = call(settings, "places", kind, region)
    print_output(["region", "city", "listings"] if region else ["region", "listings"], rows, settings.json)


# -- sellers and shops -------------------------------------------------------------------------


@cli.group()
def seller() -> None:
    """A seller's public face: listings on sale and reviews."""


def _public_listings(
    settings: Settings, function: str, owner_id: int, cursor: str | None, limit: int
) -> None:
    rows = call(settings, function, owner_id, cursor, limit)
    print_page(settings, ["listing_id", "title", "price_amount", "city", "sort_date"], rows, ["currency"])


_PAGE_OPTIONS = (
    click.option("--cursor", help="The next_cursor of the previous page."),
    click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True),
)


@seller.command("listings")
@click.argument("user_id", type=ID)
@_PAGE_OPTIONS[0]
@_PAGE_OPTIONS[1]
@json_option
@pass_settings
def seller_listings(settings: Settings, user_id: int, cursor: str | None, limit: int) -> None:
    """A seller's published listings, newest first."""
    _public_listings(settings, "seller_listings", user_id, cursor, limit)


@seller.command("reviews")
@click.argument("user_id", type=ID)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
@pass_settings
def seller_reviews(settings: Settings, user_id: int, limit: int) -> None:
    """A seller's reviews, newest first."""
    rows = call(settings, "seller_reviews", user_id, limit)
    print_output(["review_id", "author_name", "rating", "body", "created_at"], rows, settings.json)


@shop.command("listings")
@click.argument("shop_id", type=ID)
@_PAGE_OPTIONS[0]
@_PAGE_OPTIONS[1]
@json_option
@pass_settings
def shop_listings(settings: Settings, shop_id: int, cursor: str | None, limit: int) -> None:
    """A shop's published listings, newest first (anyone)."""
    _public_listings(settings, "shop_listings", shop_id, cursor, limit)


# -- saved searches ----------------------------------------------------------------------------


@cli.group("saved-search")
def saved_search() -> None:
    """Searches you are notified about when a listing matches."""


@saved_search.command("add")
@click.argument("name")
@click.option("--query", help="The text to search for.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="A filter of `bazaar search`.")
@token_option
@json_option
@pass_settings
def saved_search_add(
    settings: Settings, name: str, query: str | None, filters: tuple[str, ...], token: str
) -> None:
    """Save a search (text and/or filters, e.g. --filter kind=part --filter region=Москва)."""
    saved = one(settings, "save_search", token, name, query, Jsonb(_pairs(filters, "--filter")))[
        "save_search"
    ]
    done(settings, f"saved search {saved}", saved_search_id=saved)


@saved_search.command("list")
@token_option
@json_option
@pass_settings
def saved_search_list(settings: Settings, token: str) -> None:
    """Your saved searches."""
    print_output(
        ["saved_search_id", "name", "query", "filters"],
        call(settings, "saved_searches", token),
        settings.json,
    )


@saved_search.command("delete")
@click.argument("saved_search_id", type=ID)
@token_option
@json_option
@pass_settings
def saved_search_delete(settings: Settings, saved_search_id: int, token: str) -> None:
    """Delete a saved search."""
    one(settings, "delete_saved_search", token, saved_search_id)
    done(settings, f"deleted saved search {saved_search_id}", saved_search_id=saved_search_id)


# -- staff: promotion and advertising ----------------------------------------------------------


@moderation.command("promote")
@click.argument("listing_id", type=ID)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    help="End of the VIP mark (omit: end it now).",
)
@token_option
@json_option
@pass_settings
def moderation_promote(settings: Settings, listing_id: int, until: datetime | None, token: str) -> None:
    """Give a listing the promoted (VIP) mark until a date, or end it."""
    one(settings, "promote_listing", token, listing_id, until.astimezone() if until else None)
    done(
        settings,
        f"listing {listing_id}: {'promoted' if until else 'no longer promoted'}",
        listing_id=listing_id,
    )


@moderation.command("ad-insert")
@click.argument("listing_id", type=ID)
@click.argument("text", required=False)
@token_option
@json_option
@pass_settings
def moderation_ad_insert(settings: Settings, listing_id: int, text: str | None, token: str) -> None:
    """Attach an advertising insert to a listing (no TEXT: clear it)."""
    one(settings, "set_ad_insert", token, listing_id, text)
    done(settings, f"listing {listing_id}: insert {'set' if text else 'cleared'}", listing_id=listing_id)


@moderation.command("campaign")
@click.argument("category")
@click.option("--title", required=True)
@click.option("--body", required=True)
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), required=True)
@token_option
@json_option
@pass_settings
def moderation_campaign(
    settings: Settings, category: str, title: str, body: str, until: datetime, token: str
) -> None:
    """Run an advertising campaign in a category (shown on a random listing of it)."""
    row = one(
        settings,
        "create_ad_campaign",
        token,
        _category_id(settings, category),
        title,
        body,
        until.astimezone(),
    )
    done(settings, f"campaign {row['campaign_id']} on listing {row['listing_id']}", **row)


# -- a person's own settings -------------------------------------------------------------------


@review.command("edit")
@click.argument("review_id", type=ID)
@click.option("--rating", type=click.IntRange(1, 5), required=True)
@click.option("--body", required=True)
@token_option
@json_option
@pass_settings
def review_edit(settings: Settings, review_id: int, rating: int, body: str, token: str) -> None:
    """Change your review while its edit window lasts."""
    one(settings, "edit_review", token, review_id, rating, body)
    done(settings, f"review {review_id} changed", review_id=review_id)


@user.command("channels")
@click.argument("channels", nargs=-1, required=True, type=click.Choice(["telegram", "email", "sms"]))
@token_option
@json_option
@pass_settings
def user_channels(settings: Settings, channels: tuple[str, ...], token: str) -> None:
    """Choose the channels notifications reach you on."""
    chosen = one(settings, "set_notification_channels", token, list(channels))["set_notification_channels"]
    done(settings, f"notifications go to: {', '.join(chosen)}", channels=chosen)


@user.command("link-telegram-chat")
@click.argument("chat_id", type=int)
@click.argument("phone")
@token_option
@json_option
@pass_settings
def user_link_telegram_chat(settings: Settings, chat_id: int, phone: str, token: str) -> None:
    """Link a Telegram chat whose shared phone is this account's (what a Login Widget app does;
    people use `user link-telegram`)."""
    one(settings, "link_telegram", token, chat_id, phone)
    done(settings, f"Telegram chat {chat_id} linked", chat_id=chat_id)


# -- promotion bought like goods ---------------------------------------------------------------


@cli.group()
def promotion() -> None:
    """Promotion (the VIP mark) a seller buys for a listing; the platform confirms the payment."""


@promotion.command("buy")
@click.argument("listing_id", type=ID)
@click.option("--days", type=int, required=True, help="How many days (1 to promotion_max_days).")
@click.option("--key", help="An idempotency key: the same key again answers the same order.")
@token_option
@json_option
@pass_settings
def promotion_buy(settings: Settings, listing_id: int, days: int, key: str | None, token: str) -> None:
    """Order days of promotion for your listing; it starts when the payment is confirmed."""
    row = one(settings, "buy_promotion", token, listing_id, days, key)
    done(
        settings,
        f"promotion order {row['promotion_order_id']}: {days} day(s), {row['total_amount'] / 100:.2f} "
        f"{row['currency']}, pay before {row['reserved_until']:%Y-%m-%d %H:%M}",
        **row,
    )


@promotion.command("pay")
@click.argument("promotion_order_id", type=ID)
@token_option
@json_option
@pass_settings
def promotion_pay(settings: Settings, promotion_order_id: int, token: str) -> None:
    """Confirm a promotion payment (admins): the listing is promoted from now."""
    until = one(settings, "pay_promotion", token, promotion_order_id)["pay_promotion"]
    done(
        settings, f"promoted until {until:%Y-%m-%d %H:%M}", promotion_order_id=promotion_order_id, until=until
    )


@promotion.command("cancel")
@click.argument("promotion_order_id", type=ID)
@token_option
@json_option
@pass_settings
def promotion_cancel(settings: Settings, promotion_order_id: int, token: str) -> None:
    """Cancel your promotion order before it is paid."""
    one(settings, "cancel_promotion", token, promotion_order_id)
    done(settings, f"promotion order {promotion_order_id} cancelled", promotion_order_id=promotion_order_id)


@promotion.command("list")
@token_option
@json_option
@pass_settings
def promotion_list(settings: Settings, token: str) -> None:
    """Your promotion orders, newest first."""
    rows = call(settings, "my_promotions", token)
    columns = ["promotion_order_id", "listing_id", "title", "days", "status", "promoted_until"]
    print_output(columns, rows, settings.json)
