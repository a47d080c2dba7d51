"""The stages of a world, in the order they run, with the parts of the plan each reads and fills
and the tables it writes (tests/generator/test_stages.py holds every stage to what it says here).

Planning stages fill the plan; writing stages read it and stream their tables. Three stages do
both: `users` and `shops` write their rows from the very draws that plan them, and
`describe_listings` sends the listings' texts at once so that PostgreSQL computes the search
vectors while the rest is simulated (ADR 0010). The order of the tables is the order COPY gets
them in: the loader rebuilds a table's keys as soon as it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from generator.world import commerce, descriptions, engagement, listings, messaging, people
from generator.world.context import Context
from generator.world.inputs import Catalog, Config
from generator.world.plan import Plan
from generator.world.stream import Send


@dataclass(frozen=True)
class Stage:
    run: Callable[[Context, Plan], None]
    reads: tuple[str, ...] = ()  # parts of the plan
    fills: tuple[str, ...] = ()  # parts of the plan it sets, completes (listings) or adds to (outbox, audit)
    writes: tuple[str, ...] = ()  # tables

    @property
    def name(self) -> str:
        return self.run.__name__


STAGES: tuple[Stage, ...] = (
    # planning (users and shops written on the way)
    Stage(people.users, fills=("people", "audit"), writes=("users",)),
    Stage(people.shops, reads=("people",), fills=("shops",), writes=("shops", "shop_members")),
    Stage(listings.plan_listings, reads=("people", "shops"), fills=("listings",)),
    Stage(
        descriptions.describe_listings, reads=("listings",), fills=("listings",), writes=("listing_texts",)
    ),
    Stage(listings.live_listings, reads=("people", "listings"), fills=("listings",)),
    Stage(commerce.simulate_orders, reads=("people", "shops", "listings"), fills=("listings", "orders")),
    Stage(listings.plan_counts, reads=("people", "listings"), fills=("counts",)),
    # writing
    Stage(listings.write_listings, reads=("listings", "counts"), writes=("listings",)),
    Stage(listings.write_place_counts, reads=("listings",), writes=("place_counts",)),
    Stage(listings.write_promotions, reads=("listings",), writes=("promotion_orders",)),
    Stage(
        listings.write_listing_history,
        reads=("listings",),
        fills=("audit",),
        writes=("listing_status_history", "listing_price_history"),
    ),
    Stage(
        listings.write_revisions,
        reads=("listings", "people"),
        fills=("audit",),
        writes=("listing_revisions",),
    ),
    Stage(
        listings.write_photos_tags_fitments,
        reads=("listings", "counts"),
        writes=("listing_photos", "tags", "listing_tags", "part_fitments"),
    ),
    Stage(
        engagement.write_reactions,
        reads=("people", "listings", "counts"),
        writes=("favorites", "listing_reactions"),
    ),
    Stage(
        engagement.write_clicks,
        reads=("people", "listings", "counts"),
        writes=("contact_clicks", "contact_clicks_daily"),
    ),
    Stage(messaging.write_chat, reads=("people", "listings", "counts"), writes=("chat_messages",)),
    Stage(
        commerce.write_orders,
        reads=("listings", "orders"),
        fills=("outbox",),
        writes=("checkouts", "orders", "order_lines", "order_status_history"),
    ),
    Stage(
        commerce.write_deals,
        reads=("people", "listings", "orders"),
        fills=("outbox",),
        writes=("deals", "reviews", "platform_reviews"),
    ),
    Stage(
        messaging.write_campaigns_and_channels,
        reads=("people", "listings", "counts"),
        fills=("outbox", "audit"),
        writes=("ad_campaigns", "telegram_channels", "channel_posts"),
    ),
    Stage(
        commerce.write_shopping,
        reads=("people", "shops", "listings"),
        writes=("cart_items", "saved_searches", "saved_search_queue"),
    ),
    Stage(
        messaging.write_notifications,
        reads=("people", "outbox"),
        writes=("notifications", "outbox_delivery_stats"),
    ),
    Stage(
        people.write_accounts,
        reads=("people",),
        writes=(
            "sessions",
            "sign_in_failures",
            "sign_in_codes",
            "password_reset_codes",
            "telegram_link_tokens",
        ),
    ),
    Stage(people.write_audit, reads=("audit",), writes=("audit_log",)),
)


def produce(config: Config, catalog: Catalog, send: Send) -> None:
    """Generate the whole marketplace, table by table, into SEND."""
    context, plan = Context(config, catalog, send), Plan()
    for stage in STAGES:
        stage.run(context, plan)
