"""The plan: what the planning stages decide and the writing stages read.

Rows of one table often depend on decisions made for another (an order needs its listing's price
at that moment, a listing's counters the rows that will be written for them), so the marketplace
is decided here first, part by part, and written from it. Each part of `Plan` names the stage
that fills it; `generator/world/stages.py` lists every stage with the parts it reads and fills
and the tables it writes. A part read before its stage has filled it raises AttributeError: it
has no empty default to hide a stage run out of order (only the outbox and the audit log, which
several stages add to, start empty).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from generator.world.draw import Rng
from generator.world.inputs import Category

Event = tuple[int, str, str, int | None, str | None]  # at, from, to, actor, reason
# at, a user or -(channel post id), kind, payload as COPY-ready JSON text (encoded once, however many rows)
Note = tuple[int, int, str, str]
# at, actor, action, target user, target shop, reason, details as JSON text
AuditEntry = tuple[int, int | None, str, int | None, int | None, str | None, str]


@dataclass(slots=True)
class People:
    """Everyone who joined, by user id (`created` from id 1 at index 0; the other per-user lists
    have an unused index 0), and who of them may trade."""

    created: list[int]  # when each user joined, in id order (ids follow joining)
    admins: list[int]
    moderators: list[int]
    city: list[int]  # index into data.CITIES
    blocked: list[bool]
    channels: list[tuple[str, ...]]  # notification channels
    email: list[str | None]
    phone: list[str | None]
    # who may buy and sell (not staff, not blocked), in joining order, and when each joined
    traders: list[int]
    traders_created: list[int]

    def person_before(self, rng: Rng, moment: int, exclude: int = 0) -> int | None:
        """Someone (not staff, not blocked) who had joined by MOMENT, or None."""
        k = bisect.bisect_right(self.traders_created, moment)
        for _ in range(5):
            if k == 0:
                return None
            user = self.traders[int(rng.random() * k)]
            if user != exclude:
                return user
        return None


@dataclass(slots=True)
class Shops:
    """Every shop, by shop id (index 0 unused)."""

    created: list[int]
    members: list[list[int]]  # the owner first
    city: list[int]  # the owner's: index into data.CITIES
    member_since: dict[tuple[int, int], int]  # (shop, user): when they joined it


@dataclass(slots=True)
class Listing:
    """One listing's life as planned. plan_listings creates it (ids in created_at order),
    describe_listings says what it offers, live_listings decides its life before any order, and
    simulate_orders what orders made of it: a sell-out, units sold, a reservation open at as_of."""

    # plan_listings
    kind: str
    category: Category
    seller: int
    shop: int | None
    city: int
    created: int
    # live_listings (plan_listings starts every listing a draft; simulate_orders may sell or reserve it)
    status: str
    changed: int  # status_changed_at
    published: int | None = None
    submitted: int | None = None
    moderator: int | None = None
    # describe_listings; simulate_orders leaves in quantity the units left unsold
    quantity: int = 1
    price: int = 0  # minor units, the current price
    # live_listings: the price drops; simulate_orders drops those after a sell-out
    prices: tuple[tuple[int, int], ...] = ()  # (since, price) when the price changed
    wholesale_min: int | None = None  # describe_listings
    weight: float = 1.0  # plan_listings: popularity, which draws orders, clicks, likes and chats
    # describe_listings (model: plan_listings for a car, describe_listings for a part that fits one)
    title: str = ""
    description: str = ""
    brand: str | None = None
    model: int | None = None
    attributes: dict[str, object] = field(default_factory=dict)
    reserved: int = 0  # simulate_orders: units held by the orders open at as_of
    # live_listings, then simulate_orders: the status history
    events: list[Event] = field(default_factory=list)
    end: Event | None = None  # how its time on sale ended (sold, archived, expired), if it did
    id: int = 0  # plan_listings

    def price_at(self, moment: int) -> int:
        for since, before in self.prices:
            if moment < since:
                return before
        return self.price

    def wholesale_price(self, price: int) -> int:
        return price * 85 // 100

    def on_sale_until(self, as_of: int) -> int:
        return as_of if self.status in ("published", "reserved") else self.changed


@dataclass(slots=True)
class Order:
    created: int
    buyer: int
    seller: int
    shop: int | None
    lines: list[tuple[int, int, int, bool]]  # listing index, quantity, unit price, wholesale
    status: str = "reserved"
    closed: int | None = None
    actor: int | None = None
    reason: str | None = None
    checkout: bool = False
    key: bool = False
    id: int = 0


@dataclass(slots=True)
class Counts:
    """Per listing (by its index in Plan.listings): what its counters say; the rows they count are
    written to match."""

    photos: list[int]
    favorites: list[int]
    likes: list[int]
    dislikes: list[int]
    clicks: list[int]
    chat_enabled: list[bool]
    chats: list[int]  # chat messages


@dataclass(slots=True)
class Plan:
    """The marketplace as decided so far: each part with the stage that fills it (STAGES says
    who reads it)."""

    people: People = field(init=False)  # users
    shops: Shops = field(init=False)  # shops
    # plan_listings, in created_at order; describe_listings, live_listings and simulate_orders
    # complete each one (see Listing)
    listings: list[Listing] = field(init=False)
    orders: list[Order] = field(init=False)  # simulate_orders, in created_at order
    counts: Counts = field(init=False)  # plan_counts
    # Rows for the outbox and the audit log, added by the stages that write what causes them (a
    # deal's or a channel post's id is known once it is written). They are written sorted by
    # moment and target (outbox) or moment and action (audit); on equal keys the order they were
    # added in decides, so the stages that add them keep their order in STAGES.
    # outbox: write_orders, write_deals, write_campaigns_and_channels
    outbox: list[Note] = field(default_factory=list)
    # audit: users, write_listing_history, write_campaigns_and_channels
    audit: list[AuditEntry] = field(default_factory=list)
