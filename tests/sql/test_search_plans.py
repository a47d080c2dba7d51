"""The lookups of api.search are served by indexes on enough rows that a sequential scan would
otherwise win. The plans of the queries api.search builds are read with auto_explain, which
reports nested statements as NOTICEs to this session."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from tests.sql.conftest import Api

Conn = psycopg.Connection[Any]

ROWS = 30000


def plans_of(api: Api, **arguments: Any) -> str:
    api.notices.clear()
    api.search(**arguments)
    return "\n".join(n.message_primary or "" for n in api.notices)


def test_feed_category_part_number_and_text_use_indexes(api: Api, db: Conn, category: dict[str, int]) -> None:
    common, medium, rare = category["brake-pads"], category["filters"], category["timing"]
    seller = db.execute(
        "insert into core.users (display_name, email, password_hash) "
        "values ('Bulk seller', 'bulk@example.com', '$2a$04$' || repeat('a', 53)) returning id"
    ).fetchone()
    assert seller is not None
    db.execute(
        """
        insert into core.listings (kind, category_id, seller_id, title, region, city, price_amount,
                                   attributes, status, sort_date, published_at, expires_at)
        select 'part',
               case when g %% 200 = 0 then %(rare)s when g %% 5 = 0 then %(medium)s else %(common)s end,
               %(seller)s,
               case when g %% 500 = 0 then 'Ремень ГРМ Gates ' else 'Колодки тормозные ' end || g,
               'Москва', 'Москва', 1000 + g,
               jsonb_build_object('part_number', 'PN-' || g, 'condition', 'new'),
               'published', now() - g * interval '1 minute', now(), now() + interval '90 days'
        from generate_series(1, %(rows)s) as g
        """,
        {"rare": rare, "medium": medium, "common": common, "seller": seller[0], "rows": ROWS},
    )
    db.execute("analyze core.listings")
    db.execute("load 'auto_explain'")
    for setting, value in (
        ("log_min_duration", "0"),
        ("log_nested_statements", "on"),
        ("log_level", "notice"),
    ):
        db.execute(f"set local auto_explain.{setting} = {value}".encode())

    feed = plans_of(api, p_limit=20)
    assert "index_listings_on_feed" in feed, feed

    # a category of a fifth of the rows: an index in feed order fills a page, the whole feed's
    # (filtered: ~100 rows) or the category's own (V0037); the costs are close, either is right
    browse = plans_of(api, p_category_id=medium, p_limit=20)
    assert re.search(r"Index Scan using index_listings_on_(category_)?feed on listings", browse), browse
    # a rare one: its own rows in feed order, from the category feed index (V0037), nothing sorted
    rare_browse = plans_of(api, p_category_id=rare, p_limit=20)
    assert "Index Scan using index_listings_on_category_feed" in rare_browse, rare_browse

    for plan in (feed, browse, rare_browse):
        assert "Seq Scan on listings" not in plan, plan

    lookup = plans_of(api, p_query="PN-12345", p_limit=20)
    assert "index_listings_on_part_number" in lookup, lookup

    text = plans_of(api, p_query="ремень gates", p_limit=20)
    assert "index_listings_on_search_vector" in text, text

    cheapest = plans_of(api, p_sort="price_asc", p_limit=20)
    assert "index_listings_on_price" in cheapest, cheapest

    # a rare tag: found through the tag's name, then its listings through (tag_id, listing_id)
    db.execute("insert into core.tags (name) select 'tag ' || g from generate_series(1, 5000) as g")
    # known to the planner before the next insert reads it: taken for an empty table, the tags
    # became the outer side of a nested loop over the seller's listings, 5,000 times each (7+ min)
    db.execute("analyze core.tags")
    db.execute(
        "insert into core.listing_tags (listing_id, tag_id) "
        "select l.id, t.id from core.listings as l "
        "join core.tags as t on t.name = 'tag ' || (l.id %% 5000 + 1) "
        "where l.seller_id = %s",
        [seller[0]],
    )
    db.execute("analyze core.listing_tags")
    tagged = plans_of(api, p_tag="Tag 7", p_limit=20)
    assert "index_tags_on_name" in tagged and "index_listing_tags_on_tag_id" in tagged, tagged
    assert "Seq Scan on listing_tags" not in tagged and "Seq Scan on listings" not in tagged, tagged
