"""Edits of a listing on sale are moderated (ADR 0019): its content waits as a pending revision
while the public sees the approved version; a moderator approves or rejects it from the queue;
quantity, region and city change at once. And the moderation queue in keyset pages with filters."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.harness import as_role
from tests.sql.conftest import Api, Conn, Listings, MakeUser, User


@pytest.fixture
def seller(make_user: MakeUser) -> User:
    return make_user("Seller")


def queue(api: Api, moderator: User, **filters: Any) -> list[dict[str, Any]]:
    names = ["listing_id", "kind", "title", "seller_id", "shop_id", "category_id", "waiting_since",
             "revision_id", "changes", "next_cursor"]  # fmt: skip
    arguments = {"p_token": moderator.token, "p_limit": 500, **filters}
    placeholders = ", ".join(f"{k} => %({k})s" for k in arguments)
    with as_role(api.db, api.role):  # as the application, in a savepoint
        cur = api.db.execute(f"select * from api.moderation_queue({placeholders})".encode(), arguments)
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def edit(api: Api, user: User, listing_id: int, **changes: Any) -> str:
    return str(api.one("edit_listing", user.token, listing_id, Jsonb(changes)))


def test_content_waits_for_a_moderator_while_the_public_sees_the_approved_version(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, make_user: MakeUser
) -> None:
    buyer = make_user("Buyer")
    listing = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Колодки Bosch"))
    assert edit(
        api, seller, listing, title="Колодки Bosch, купите в t.me/scam", quantity=5, city="Тверь"
    ) == ("pending_review")
    public = api.card(listing, buyer.token)
    assert public["title"] == "Колодки Bosch" and public["pending_changes"] is None
    assert (public["quantity"], public["city"]) == (5, "Тверь")  # those change at once
    assert [r["listing_id"] for r in api.search(p_query="scam")] == []
    assert api.card(listing, seller.token)["pending_changes"] == {
        "title": "Колодки Bosch, купите в t.me/scam"
    }
    [waiting] = [r for r in queue(api, moderator) if r["listing_id"] == listing]
    assert waiting["revision_id"] and waiting["changes"] == {"title": "Колодки Bosch, купите в t.me/scam"}
    assert waiting["title"] == "Колодки Bosch"  # the approved title; the changes beside it

    assert api.one("reject_listing", moderator.token, listing, "no links to other sites") == "edit_rejected"
    assert api.card(listing, seller.token)["title"] == "Колодки Bosch"
    assert api.card(listing, seller.token)["pending_changes"] is None
    told = db.execute(
        "select payload ->> 'reason' from core.notifications where user_id = %s and kind = 'edit_rejected'",
        [seller.id],
    ).fetchall()
    assert told and {r[0] for r in told} == {"no links to other sites"}

    assert edit(
        api, seller, listing, title="Колодки Bosch, комплект", photos=["p/1.jpg"], tags=["Bosch"]
    ) == ("pending_review")
    assert api.one("approve_listing", moderator.token, listing) == "edit_approved"
    card = api.card(listing, buyer.token)
    assert (card["title"], card["photos"], card["tags"]) == (
        "Колодки Bosch, комплект",
        ["p/1.jpg"],
        ["bosch"],
    )
    assert [r["listing_id"] for r in api.search(p_query="комплект")] == [listing]
    audit = db.execute(
        "select action, details -> 'fields' from core.audit_log where actor_id = %s order by id",
        [moderator.id],
    ).fetchall()
    assert audit[-2:] == [("reject_edit", ["title"]), ("approve_edit", ["photos", "tags", "title"])]
    api.fails("55000", "approve_listing", moderator.token, listing)  # nothing waits any more


def test_later_edits_extend_the_revision_and_an_edit_back_withdraws_it(
    api: Api, listings: Listings, seller: User, moderator: User
) -> None:
    listing = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Диски R16"))
    edit(api, seller, listing, title="Диски R16 новые")
    edit(api, seller, listing, description="Комплект из четырёх")
    [waiting] = [r for r in queue(api, moderator) if r["listing_id"] == listing]
    assert waiting["changes"] == {"title": "Диски R16 новые", "description": "Комплект из четырёх"}
    edit(api, seller, listing, description="")
    assert edit(api, seller, listing, title="Диски R16") == "applied"  # back to the approved version
    assert [r for r in queue(api, moderator) if r["listing_id"] == listing] == []
    api.fails("22023", "edit_listing", seller.token, listing, Jsonb({"title": "x"}))  # checked at once
    assert edit(api, seller, listing, quantity=3) == "applied"


def test_edits_off_sale_apply_at_once_and_take_the_waiting_changes_with_them(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User
) -> None:
    draft = listings.create(seller, "part")
    assert edit(api, seller, draft, title="Черновик правим сразу") == "applied"
    listing = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Фары"))
    edit(api, seller, listing, title="Фары LED")
    api.one("archive_listing", seller.token, listing)
    assert edit(api, seller, listing, description="Пара") == "applied"
    assert api.card(listing, seller.token)["title"] == "Фары LED"  # the waiting change came along
    api.one("submit_listing", seller.token, listing)  # moderated as a whole now
    assert [r["revision_id"] for r in queue(api, moderator) if r["listing_id"] == listing] == [None]
    # changes still waiting when a listing goes back to moderation are decided with it
    other = listings.publish(seller, moderator, listings.create(seller, "part", p_title="Зеркало"))
    edit(api, seller, other, title="Зеркало левое")
    api.one("archive_listing", seller.token, other)
    api.one("submit_listing", seller.token, other)
    [row] = [r for r in queue(api, moderator) if r["listing_id"] == other]
    assert row["changes"] == {"title": "Зеркало левое"}
    assert api.one("approve_listing", moderator.token, other) == "published"
    assert api.card(other)["title"] == "Зеркало левое"


def test_the_queue_pages_by_cursor_and_filters(
    api: Api, db: Conn, listings: Listings, seller: User, moderator: User, category: dict[str, int]
) -> None:
    db.execute("update core.listings set status = 'archived' where status = 'pending'")  # this test's queue
    db.execute(
        "update core.listing_revisions set status = 'withdrawn', decided_at = now() where status = 'pending'"
    )
    parts = [listings.create(seller, "part") for _ in range(3)]
    service = listings.create(seller, "service")
    for listing in [*parts, service]:
        api.one("submit_listing", seller.token, listing)
    on_sale = listings.publish(seller, moderator, listings.create(seller, "part"))
    edit(api, seller, on_sale, title="Новое название")
    db.execute(
        "update core.listings set status_changed_at = now() - interval '3 hours' where id = %s", [parts[0]]
    )
    whole = [r["listing_id"] for r in queue(api, moderator)]
    assert whole == [parts[0], parts[1], parts[2], service, on_sale]
    pages, cursor = [], None
    while True:
        page = queue(api, moderator, p_limit=2, p_cursor=cursor)
        pages.append([r["listing_id"] for r in page])
        cursor = page[-1]["next_cursor"] if page else None
        if cursor is None:
            break
    assert [i for p in pages for i in p] == whole and [len(p) for p in pages] == [2, 2, 1]
    assert [r["listing_id"] for r in queue(api, moderator, p_kind="service")] == [service]
    assert service not in [r["listing_id"] for r in queue(api, moderator, p_category_id=category["brakes"])]
    assert [r["listing_id"] for r in queue(api, moderator, p_waiting_minutes=120)] == [parts[0]]
    bad_filters: list[dict[str, Any]] = [
        {"p_cursor": "garbage"},
        {"p_cursor": "2026-13-45T99:00:00.000000/1"},
        {"p_kind": "boat"},
        {"p_category_id": 10**9},
        {"p_waiting_minutes": -1},
        {"p_limit": 501},
    ]
    for bad in bad_filters:
        with pytest.raises(psycopg.Error) as error:
            queue(api, moderator, **bad)
        assert error.value.sqlstate == "22023", bad
