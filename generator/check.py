"""Integrity of a loaded marketplace: the rules the api functions keep, checked over all the data.

Each check is one query returning the offending rows' ids (none when all is well). They hold for
data the generator made and for data the application made: `bazaar generate --check` runs them
on any marketplace database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

# (name, what it guards, query returning offending ids)
CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "attributes",
        "every listing's attributes are what core.check_attributes makes of them for its kind and category",
        """
        select l.id from core.listings as l
        where pg_temp.attribute_problem(l.kind, l.category_id, l.attributes) is not null
        """,
    ),
    (
        "search_vector",
        "every listing's search vector is the one the trigger computes (core.listing_search_vector)",
        """
        select l.id from core.listings as l
        left join core.vehicle_models as m on m.id = l.model_id
        left join core.vehicle_makes as mk on mk.id = m.make_id
        where l.search_vector
            <> core.listing_search_vector(l.title, l.description, l.brand, mk.name, m.name, l.part_number)
        """,
    ),
    (
        "reserved_stock",
        "a listing's reserved units are exactly what its open (reserved) orders hold",
        """
        select l.id from core.listings as l
        left join (
            select ol.listing_id, sum(ol.quantity) as held from core.order_lines as ol
            join core.orders as o on o.id = ol.order_id where o.status = 'reserved' group by ol.listing_id
        ) as r on r.listing_id = l.id
        where l.reserved_quantity <> coalesce(r.held, 0)
        """,
    ),
    (
        "stock_status",
        "no oversold stock: reserved listings hold every unit, listings on sale have a unit left",
        """
        select l.id from core.listings as l
        where l.reserved_quantity > l.quantity
            or (l.status = 'reserved' and l.quantity <> l.reserved_quantity)
            or (l.status = 'published' and (l.quantity = 0 or l.quantity = l.reserved_quantity))
        """,
    ),
    (
        "order_totals",
        "an order's total is the sum of its lines, all of one seller, not bought by that seller",
        """
        select o.id from core.orders as o
        join core.order_lines as ol on ol.order_id = o.id
        join core.listings as l on l.id = ol.listing_id
        group by o.id
        having o.total_amount <> sum(ol.line_amount)
            or bool_or(l.seller_id <> o.seller_id or l.shop_id is distinct from o.shop_id)
            or bool_or(l.seller_id = o.buyer_id)
        union all
        select o.id from core.orders as o
        where not exists (select from core.order_lines as ol where ol.order_id = o.id)
        """,
    ),
    (
        "order_history",
        "every order's history starts reserved and ends in its status",
        """
        select o.id from core.orders as o
        left join lateral (
            select (array_agg(t.to_status order by t.id))[1] as first_status,
                (array_agg(t.to_status order by t.id desc))[1] as last_status
            from core.order_transitions as t where t.order_id = o.id
        ) as h on true
        where h.first_status is distinct from 'reserved' or h.last_status is distinct from o.status
        """,
    ),
    (
        "deals_from_orders",
        "each paid order has one confirmed deal between its buyer and seller, and only paid orders do",
        """
        select o.id from core.orders as o
        left join core.deals as d on d.order_id = o.id
        where (o.status = 'paid') <> (d.id is not null)
            or d.confirmed_at is null and d.id is not null
            or d.buyer_id <> o.buyer_id or d.seller_id <> o.seller_id
        """,
    ),
    (
        "reviews_need_deals",
        "reviews only with a confirmed deal, written by its buyer about its seller, after the confirmation",
        """
        select r.id from core.reviews as r
        join core.deals as d on d.id = r.deal_id
        where d.confirmed_at is null or r.author_id <> d.buyer_id or r.seller_id <> d.seller_id
            or r.created_at < d.confirmed_at
        """,
    ),
    (
        "listing_counters",
        "like, dislike, favorite and photo counts match the rows they count",
        """
        select l.id from core.listings as l
        left join (
            select r.listing_id, count(*) filter (where r.reaction = 'like') as likes,
                count(*) filter (where r.reaction = 'dislike') as dislikes
            from core.listing_reactions as r group by r.listing_id
        ) as r on r.listing_id = l.id
        left join (select f.listing_id, count(*) as n from core.favorites as f group by f.listing_id) as f
            on f.listing_id = l.id
        left join (
            select p.listing_id, count(*) as n from core.listing_photos as p group by p.listing_id
        ) as p on p.listing_id = l.id
        where l.like_count <> coalesce(r.likes, 0) or l.dislike_count <> coalesce(r.dislikes, 0)
            or l.favorite_count <> coalesce(f.n, 0) or l.photo_count <> coalesce(p.n, 0)
        """,
    ),
    (
        "click_counters",
        "contact-click counters match the daily rollup, and the rollup the click log",
        """
        select l.id from core.listings as l
        left join (
            select d.listing_id, sum(d.clicks) as n from core.contact_clicks_daily as d group by d.listing_id
        ) as d on d.listing_id = l.id
        where l.contact_click_count <> coalesce(d.n, 0)
        union all
        select coalesce(d.listing_id, c.listing_id) from core.contact_clicks_daily as d
        full join (
            select c.listing_id, (c.clicked_at at time zone 'UTC')::date as day, count(*) as n
            from core.contact_clicks as c group by 1, 2
        ) as c on c.listing_id = d.listing_id and c.day = d.day
        where d.clicks is distinct from c.n
            -- older days outlive the log's retention in the rollup
            and coalesce(d.day, c.day)
                >= (select min(x.clicked_at at time zone 'UTC')::date from core.contact_clicks as x)
        """,
    ),
    (
        "price_history",
        "a listing's last recorded price is its price; a sold listing's price did not change after the sale",
        """
        select l.id from core.listings as l
        join lateral (
            select h.price_amount, h.changed_at from core.listing_price_history as h where h.listing_id = l.id
            order by h.changed_at desc, h.id desc limit 1
        ) as h on true
        where h.price_amount <> l.price_amount or (l.status = 'sold' and h.changed_at > l.status_changed_at)
        """,
    ),
    (
        "shop_listings",
        "a shop's listing was created by someone who was a member of the shop by then",
        """
        select l.id from core.listings as l
        join core.shop_members as m on m.shop_id = l.shop_id and m.user_id = l.seller_id
        where l.created_at < m.added_at
        """,
    ),
    (
        "status_history",
        "each listing's last recorded status is its status",
        """
        select l.id from core.listings as l
        join lateral (
            select h.to_status from core.listing_status_history as h where h.listing_id = l.id
            order by h.changed_at desc, h.id desc limit 1
        ) as h on true
        where h.to_status <> l.status
        """,
    ),
    (
        "partitions",
        "time-series rows lie in their monthly partitions, not in the default ones",
        """
        select c.id from core.contact_clicks_default as c
        union all select m.id from core.chat_messages_default as m
        union all select n.id from core.notifications_default as n
        union all select a.id from core.audit_log_default as a
        """,
    ),
    (
        "shop_owners",
        "every shop has an owner",
        """
        select s.id from core.shops as s
        where not exists (select from core.shop_members as m where m.shop_id = s.id and m.role = 'owner')
        """,
    ),
    (
        "tag_limit",
        "no listing carries more tags than max_tags_per_listing",
        """
        select t.listing_id from core.listing_tags as t group by t.listing_id
        having count(*) > core.setting_int('max_tags_per_listing')
        """,
    ),
)

# check_attributes raises on a bad value: report its message instead of stopping at the first one
ATTRIBUTE_PROBLEM = """
create function pg_temp.attribute_problem(p_kind core.listing_kind, p_category_id bigint, p_attributes jsonb)
returns text language plpgsql stable as $$
begin
    if core.check_attributes(p_kind, p_category_id, p_attributes) is distinct from p_attributes then
        return 'not in normal form';
    end if;
    return null;
exception when others then
    return sqlerrm;
end
$$
"""


@dataclass(frozen=True)
class Finding:
    check: str
    rule: str
    violations: int
    examples: list[int]

    def as_row(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "violations": self.violations,
            "examples": self.examples,
            "rule": self.rule,
        }


def run_checks(conn: psycopg.Connection[Any]) -> list[Finding]:
    """Run every check (read-only: the temporary helper goes with the rolled-back transaction)."""
    conn.execute(ATTRIBUTE_PROBLEM)
    findings = []
    for name, rule, query in CHECKS:
        row = conn.execute(
            f"select count(*), (array_agg(id order by id))[1:5] from ({query}) as v (id)"  # noqa: S608  # constant
        ).fetchone()
        assert row is not None
        findings.append(Finding(name, rule, int(row[0]), list(row[1] or [])))
    conn.rollback()
    return findings
