"""The listing card kept ready (V0036, ADR 0022): every change of what a card shows, through the api
or straight in the tables, leaves core.listing_cards equal to the cards computed afresh."""

from __future__ import annotations

from collections.abc import Callable

from psycopg.types.json import Jsonb

from tests.sql.conftest import Api, Conn, Listings, MakeUser, User


def stale_cards(db: Conn) -> list[int]:
    """Listings whose kept card differs from the one computed from the tables now (or is missing)."""
    rule = db.execute(
        "select violations, sample_ids from ops.integrity_report() where rule = 'listing_cards'"
    )
    row = rule.fetchone()
    assert row is not None, "the integrity report has no listing_cards rule"
    return list(row[1]) if row[0] else []


def test_cards_follow_every_change_of_what_they_show(
    api: Api,
    db: Conn,
    listings: Listings,
    make_user: MakeUser,
    moderator: User,
    model: Callable[[str, str], int],
) -> None:
    seller = make_user("Seller")
    listing = listings.create(seller, "part", p_photos=["p/a.jpg", "p/b.jpg"], p_tags=["brembo", "front"])
    assert stale_cards(db) == []
    card = api.card(listing, seller.token)
    assert card["photos"] == ["p/a.jpg", "p/b.jpg"] and card["tags"] == ["brembo", "front"]
    camry = model("Toyota", "Camry")
    api.one("add_fitment", seller.token, listing, camry, 2012, 2018)
    assert [f["model"] for f in api.card(listing, seller.token)["fitment"]] == ["Camry"]
    # a draft's edits apply at once: photos replaced, tags replaced
    api.one("edit_listing", seller.token, listing, Jsonb({"photos": ["p/z.jpg"], "tags": ["rear"]}))
    card = api.card(listing, seller.token)
    assert card["photos"] == ["p/z.jpg"] and card["tags"] == ["rear"]
    listings.publish(seller, moderator, listing)
    # a published listing's content edit waits for a moderator: the public card keeps the approved photos
    assert (
        api.one("edit_listing", seller.token, listing, Jsonb({"photos": ["p/new.jpg"]})) == "pending_review"
    )
    assert api.card(listing)["photos"] == ["p/z.jpg"]
    assert api.one("approve_listing", moderator.token, listing) == "edit_approved"
    assert api.card(listing)["photos"] == ["p/new.jpg"]
    api.one("remove_fitment", seller.token, listing, camry, 2012)
    assert api.card(listing)["fitment"] == []
    # names shown on cards, changed straight in the tables (by an operator, or a future function)
    db.execute("update core.users set display_name = 'Renamed Seller' where id = %s", [seller.id])
    db.execute("update core.vehicle_models set name = name || ' XV70' where id = %s", [camry])
    db.execute("update core.tags set name = 'rear-axle' where name = 'rear'")
    assert api.card(listing)["seller_name"] == "Renamed Seller"
    assert api.card(listing)["tags"] == ["rear-axle"]
    assert stale_cards(db) == []


def test_a_card_left_stale_is_reported_and_rebuilt(
    api: Api, db: Conn, listings: Listings, make_user: MakeUser, moderator: User
) -> None:
    seller = make_user("Seller")
    public = listings.publish(seller, moderator, listings.create(seller, "part", p_photos=["p/a.jpg"]))
    db.execute("update core.listing_cards set photos = '{forged.jpg}' where listing_id = %s", [public])
    assert stale_cards(db) == [public]
    db.execute("delete from core.listing_cards where listing_id = %s", [public])
    assert stale_cards(db) == [public]
    # a missing card is a missing listing to the card function: never a card without its parts
    api.fails("P0002", "listing_card", public, None)
    db.execute("select core.refresh_listing_cards(null)")
    assert stale_cards(db) == []
    assert api.card(public)["listing_id"] == public
