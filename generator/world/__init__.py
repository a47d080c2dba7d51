"""The simulated marketplace: who joined when, what they listed, bought, clicked and wrote.

`produce` plans the marketplace in memory first (listings' lives, then every order in time
order, so stock, statuses and counters follow the same rules as the api functions), then
streams every table as COPY text to a sink. Everything random comes from `random.Random`
streams seeded with the seed and a name, so the same seed, scale and as-of time give the same
bytes whatever runs first. Ids are assigned here (COPY writes identity columns as given).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from generator import binary, data
from generator.pools import Pools
from generator.sizes import Sizes
from generator.text import NULL, array, day, esc, js, opt, opt_json, ts, ts_opt
from generator.world.clock import DAY, HOUR, MINUTE
from generator.world.draw import Rng, spread
from generator.world.inputs import Catalog, Category, Config, Model
from generator.world.stream import Send, Table, Tables

__all__ = ["Catalog", "Category", "Config", "Model", "produce"]

RESERVATION = 10 * MINUTE  # core.settings reservation_lifetime
SESSION_LIFETIME = 30 * DAY  # core.settings session_lifetime
ORDER_CANDIDATES = 1.8  # candidate orders drawn per order wanted (measured: ~300k kept at scale 1)


def photo_key(listing_id: int, position: int) -> str:
    """Where a listing's photo lies in object storage."""
    return f"listings/{listing_id}/{position}.jpg"


Event = tuple[int, str, str, int | None, str | None]  # at, from, to, actor, reason


@dataclass(slots=True)
class Listing:
    """One listing's life as planned (ids are assigned in created_at order afterwards)."""

    kind: str
    category: Category
    seller: int
    shop: int | None
    city: int
    created: int
    status: str
    changed: int  # status_changed_at
    published: int | None = None
    submitted: int | None = None
    moderator: int | None = None
    quantity: int = 1
    price: int = 0  # minor units, the current price
    prices: tuple[tuple[int, int], ...] = ()  # (since, price) when the price changed
    wholesale_min: int | None = None
    weight: float = 1.0
    title: str = ""
    description: str = ""
    brand: str | None = None
    model: int | None = None
    attributes: dict[str, object] = field(default_factory=dict)
    reserved: int = 0
    events: list[Event] = field(default_factory=list)
    end: Event | None = None  # how its time on sale ended (sold, archived, expired), if it did
    id: int = 0

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


class World:
    def __init__(self, config: Config, catalog: Catalog, send: Send) -> None:
        self.config = config
        self.catalog = catalog
        self.send = send
        self.sizes = Sizes.at(config.scale)
        self.as_of = config.as_of
        self.start = config.start
        self.pools = Pools.draw(config.seed)
        self.years_now = int(day(config.as_of)[:4])
        self.tables = Tables(send)

    def rng(self, name: str) -> Rng:
        return Rng(f"{self.config.seed}:{name}")

    def table(self, name: str, columns: str, binary: bool = False) -> Table:
        """A table to write, its COLUMNS named in one string, separated by spaces."""
        return self.tables.table(name, columns.split(), binary)

    # ---- people ---------------------------------------------------------------------------

    def users(self) -> None:
        rng, sizes = self.rng("users"), self.sizes
        n = sizes.users
        span = self.as_of - DAY - self.start
        # more people join lately: the density of u ** 0.7 grows towards the present
        self.user_created = sorted(self.start + int(span * rng.random() ** 0.7) for _ in range(n))
        self.admins = list(range(1, sizes.admins + 1))
        self.moderators = list(range(sizes.admins + 1, sizes.admins + sizes.moderators + 1))
        staff = sizes.admins + sizes.moderators
        city_weights = [pop**1.15 for _, _, pop in data.CITIES]
        self.user_city = rng.choices(range(len(data.CITIES)), weights=city_weights, k=n + 1)
        self.user_blocked = [False] * (n + 1)
        self.user_channels: list[tuple[str, ...]] = [()] * (n + 1)
        self.user_email: list[str | None] = [None] * (n + 1)
        self.user_phone: list[str | None] = [None] * (n + 1)
        self.blocks: list[tuple[int, int, int, str]] = []  # user, at, by, reason
        p = self.pools
        out = self.table(
            "users",
            "id display_name email phone telegram_chat_id password_hash role notification_channels"
            " created_at blocked_at blocked_reason blocked_by",
        )
        for uid in range(1, n + 1):
            if rng.random() < 0.5:
                name = f"{rng.choice(p.male_first)} {rng.choice(p.male_last)}"
            else:
                name = f"{rng.choice(p.female_first)} {rng.choice(p.female_last)}"
            # phones and e-mails are unique: a bijection of the id gives the digits, the id the mailbox
            phone = f"+79{(uid * 7_919 + self.config.seed * 104_729) % 1_000_000_000:09d}"
            has_phone = uid <= staff or rng.random() < 0.9
            has_email = uid <= staff or not has_phone or rng.random() < 0.7
            email = f"{rng.choice(p.user_names)}{uid}@{rng.choice(p.email_domains)}" if has_email else None
            telegram = 400_000_000 + uid * 13 if rng.random() < 0.45 else None
            channels = []
            if telegram is not None:
                channels.append("telegram")
            if email is not None and rng.random() < 0.5:
                channels.append("email")
            if has_phone and rng.random() < 0.05:
                channels.append("sms")
            role = "admin" if uid <= sizes.admins else "moderator" if uid <= staff else "user"
            created = self.user_created[uid - 1]
            blocked = None
            if uid > staff and rng.random() < 0.01:
                at = created + int((self.as_of - created) * rng.random())
                blocked = (uid, at, rng.choice(self.admins), rng.choice(data.BLOCK_REASONS))
                self.blocks.append(blocked)
                self.user_blocked[uid] = True
            self.user_channels[uid] = tuple(channels)
            self.user_email[uid] = email
            self.user_phone[uid] = phone if has_phone else None
            out.add(
                f"{uid}\t{esc(name)}\t{opt(email)}\t{phone if has_phone else NULL}\t{opt(telegram)}\t"
                f"{self.config.password_hash}\t{role}\t{array(channels)}\t{ts(created)}\t"
                f"{ts_opt(blocked and blocked[1])}\t{blocked[3] if blocked else NULL}\t"
                f"{blocked[2] if blocked else NULL}"
            )
        out.close()
        # people who may buy and sell: not staff, not blocked
        self.people = [u for u in range(staff + 1, n + 1) if not self.user_blocked[u]]
        self.people_created = [self.user_created[u - 1] for u in self.people]

    def person_before(self, rng: Rng, moment: int, exclude: int = 0) -> int | None:
        """Someone (not staff, not blocked) who had joined by MOMENT, or None."""
        k = bisect.bisect_right(self.people_created, moment)
        for _ in range(5):
            if k == 0:
                return None
            user = self.people[int(rng.random() * k)]
            if user != exclude:
                return user
        return None

    def shops(self) -> None:
        rng, n = self.rng("shops"), self.sizes.shops
        owners = rng.sample(self.people, min(n, len(self.people)))
        self.shop_created: list[int] = [0]
        self.shop_members: list[list[int]] = [[]]
        self.shop_city: list[int] = [0]
        self.member_since: dict[tuple[int, int], int] = {}  # (shop, user): when they joined it
        names: set[str] = set()
        shops = self.table("shops", "id name description created_at created_by")
        members = self.table("shop_members", "shop_id user_id role added_at added_by")
        for sid, owner in enumerate(owners, start=1):
            joined = self.user_created[owner - 1]
            # some time after the owner joined (never piled up at the end of the history)
            created = joined + int((self.as_of - HOUR - joined) * rng.random() ** 2)
            city = data.CITIES[self.user_city[owner]][0]
            name = rng.choice(self.pools.companies)
            if name.lower() in names:
                name = f"{name} ({city})"
            while name.lower() in names:
                name = f"{name} {rng.between(2, 1000)}"
            names.add(name.lower())
            about = f"Автозапчасти и услуги, {city}. {rng.choice(data.PART_NOTES)}"
            shops.add(f"{sid}\t{esc(name)}\t{esc(about)}\t{ts(created)}\t{owner}")
            members.add(f"{sid}\t{owner}\towner\t{ts(created)}\t{owner}")
            team = [owner]
            self.member_since[(sid, owner)] = created
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                member = rng.choice(self.people)
                if member in team:
                    continue
                added = max(created, self.user_created[member - 1]) + rng.between(MINUTE, 10 * DAY)
                if added >= self.as_of:
                    continue
                team.append(member)
                self.member_since[(sid, member)] = added
                role = "manager" if rng.random() < 0.3 else "seller"
                members.add(f"{sid}\t{member}\t{role}\t{ts(added)}\t{owner}")
            self.shop_created.append(created)
            self.shop_members.append(team)
            self.shop_city.append(self.user_city[owner])
        shops.close()
        members.close()

    # ---- listings: planned, then their orders, then written ---------------------------------

    def plan_listings(self) -> None:
        rng, n = self.rng("listings"), self.sizes.listings
        cat = self.catalog
        car_models = list(cat.models)
        model_weights = list(
            accumulate(3.0 if m.make in ("Lada", "Toyota", "Kia", "Hyundai") else 1.0 for m in car_models)
        )
        part_cats = [cat.by_slug(s) for s in data.PARTS]
        part_weights = list(accumulate(1.0 if len(c.path) == 2 else 2.5 for c in part_cats))
        self.model_by_id = {m.id: m for m in cat.models}
        service_cats = [cat.by_slug(s) for s in data.SERVICES]
        car_cats = {slug: cat.by_slug(slug) for slug in ("passenger-cars", "suv", "commercial")}
        # a shop lists in proportion to its size (Pareto) and to how long it has existed
        shop_weights = [
            rng.paretovariate(1.2) * (self.as_of - self.shop_created[s]) / (self.as_of - self.start)
            for s in range(1, self.sizes.shops + 1)
        ]
        seller_weights = [rng.paretovariate(1.5) for _ in self.people]
        sellers = rng.choices(self.people, weights=seller_weights, k=n)
        shops = rng.choices(range(1, self.sizes.shops + 1), weights=shop_weights, k=n)
        listings: list[Listing] = []
        for i in range(n):
            r = rng.random()
            kind = "car" if r < 0.2 else "part" if r < 0.9 else "service"
            shop_share = {"car": 0.15, "part": 0.55, "service": 0.5}[kind]
            if rng.random() < shop_share:
                shop: int | None = shops[i]
                assert shop is not None
                seller = rng.choice(self.shop_members[shop])
                city = self.shop_city[shop]
                since = self.member_since[(shop, seller)]
            else:
                shop = None
                seller = sellers[i]
                city = self.user_city[seller]
                since = self.user_created[seller - 1]
            since = max(since, self.start)
            created = since + int((self.as_of - 2 * MINUTE - since) * rng.random())
            model: int | None = None
            if kind == "car":
                m = rng.choices(car_models, cum_weights=model_weights)[0]
                model = m.id
                slug = (
                    "suv"
                    if m.name in data.SUV_MODELS
                    else "commercial"
                    if m.name in data.COMMERCIAL_MODELS
                    else "passenger-cars"
                )
                category = car_cats[slug]
            elif kind == "part":
                category = rng.choices(part_cats, cum_weights=part_weights)[0]
            else:
                category = rng.choice(service_cats)
            pop = data.CITIES[city][2]
            item = Listing(
                kind=kind,
                category=category,
                seller=seller,
                shop=shop,
                city=city,
                created=created,
                status="draft",
                changed=created,
                model=model,
            )
            item.weight = (
                rng.paretovariate(1.16)
                * {"car": 3.0, "part": 1.0, "service": 0.6}[kind]
                * (pop / 1000) ** 0.2
            )
            listings.append(item)
        listings.sort(key=lambda item: item.created)
        for lid, item in enumerate(listings, start=1):
            item.id = lid
        self.listings = listings

    def describe_listings(self) -> None:
        """Titles, descriptions, attributes, prices; the texts search reads are sent at once (table
        listing_texts, not a marketplace table): PostgreSQL computes the search vectors from them
        while the listings' lives and orders are simulated here (ADR 0010)."""
        rng = self.rng("describe")
        texts = self.table("listing_texts", "id title description brand model_id part_number")
        for item in self.listings:
            self.describe(rng, item)
            number = item.attributes.get("part_number")
            texts.add(
                f"{item.id}\t{esc(item.title)}\t{esc(item.description)}\t{opt(item.brand)}\t{opt(item.model)}\t"
                f"{opt(number)}"
            )
        texts.close()

    def live_listings(self) -> None:
        rng = self.rng("lives")
        for item in self.listings:
            self.live(rng, item)

    def describe(self, rng: Rng, item: Listing) -> None:
        """Title, brand, attributes, price and stock by kind and category."""
        notes: tuple[str, ...]
        if item.kind == "car":
            assert item.model is not None
            m = self.model_by_id[item.model]
            year_from, year_to = rng.choice(m.years)
            year = rng.randint(year_from, min(year_to, self.years_now))
            age = max(0, self.years_now - year)
            volume, power, fuel = rng.choice(data.ENGINES)
            body = (
                "suv"
                if item.category.slug == "suv"
                else rng.choice(data.COMMERCIAL_BODIES)
                if item.category.slug == "commercial"
                else rng.choice(data.PASSENGER_BODIES)
            )
            item.attributes = {
                "year": year,
                "mileage_km": min(2_000_000, max(0, int(age * 16_000 * rng.lognormvariate(0, 0.35)))),
                "body": body,
                "engine": f"{volume} л, {power} л.с., {fuel}",
                "transmission": rng.choice(data.TRANSMISSIONS),
            }
            if rng.random() < 0.6:
                item.attributes["vin"] = "".join(rng.choice(data.VIN_ALPHABET) for _ in range(17))
            item.title = f"{m.make} {m.name}, {year}"
            rub = data.MAKE_PRICE_RUB[m.make] * 0.88**age * rng.lognormvariate(0, 0.15)
            item.price = max(50_000, round(rub / 1_000) * 1_000) * 100
            notes = data.CAR_NOTES
        elif item.kind == "part":
            names, base = data.PARTS[item.category.slug]
            slug = item.category.slug
            brand = rng.choice(
                data.TYRE_BRANDS
                if slug == "tyres"
                else data.BATTERY_BRANDS
                if slug == "batteries"
                else data.PART_BRANDS
            )
            used = rng.random() < 0.3
            number = f"{rng.choice('ABCDEFGHKMNPRSTWX')}{rng.between(100, 99_999)}-{rng.between(10, 999)}"
            item.attributes = {"part_number": number, "condition": "used" if used else "new"}
            title = f"{rng.choice(names)} {brand}"
            if slug == "tyres":
                size = rng.choice(data.TYRE_SIZES)
                item.attributes |= {
                    "tyre_size": size,
                    "season": rng.choice(("summer", "winter", "all_season")),
                }
                title = f"{title} {size}"
            elif slug == "batteries":
                capacity = rng.choice((45, 55, 60, 62, 74, 90, 100, 190))
                item.attributes |= {"capacity_ah": capacity, "polarity": rng.choice(("direct", "reverse"))}
                title = f"{title} {capacity} А·ч"
            elif slug == "wheels":
                item.attributes["diameter_in"] = rng.choice((14, 15, 16, 17, 18, 19))
                title = f"{title} R{item.attributes['diameter_in']}"
            elif slug == "brake-discs" and rng.random() < 0.7:
                item.attributes["diameter_mm"] = rng.choice((256, 280, 300, 312, 330))
            if rng.random() < 0.6:
                fits = rng.choice(self.catalog.models)
                item.model = fits.id
                title = f"{title} для {fits.make} {fits.name}"
            item.title = title[:120]
            item.brand = brand
            rub = base * rng.lognormvariate(0, 0.45) * (0.5 if used else 1.0)
            item.price = max(50, round(rub / 10) * 10) * 100
            notes = data.PART_NOTES
            if item.shop is not None:
                item.quantity = min(500, 1 + int(rng.paretovariate(1.1) * 2))
                if item.quantity >= 10 and rng.random() < 0.3:
                    item.wholesale_min = rng.choice((5, 10))
            else:
                item.quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        else:
            names, base, materials = data.SERVICES[item.category.slug]
            item.title = f"{rng.choice(names)}, {data.CITIES[item.city][0]}"
            item.attributes = {
                "lead_time_days": rng.choice((1, 2, 3, 5, 7, 10, 14, 30)),
                "materials": ", ".join(rng.two(materials)),
                "capabilities": f"{rng.choice(names)}. {rng.choice(data.SERVICE_NOTES)}",
            }
            if item.category.slug == "3d-printing":
                item.attributes["max_size_mm"] = rng.choice((200, 250, 300, 400, 600))
            rub = base * rng.lognormvariate(0, 0.5)
            item.price = max(100, round(rub / 100) * 100) * 100
            item.quantity = rng.randint(1, 20)
            notes = data.SERVICE_NOTES
        first, second = rng.two(notes)
        item.description = f"{first} {second} {rng.choice(self.pools.sentences)}"

    def live(self, rng: Rng, item: Listing) -> None:
        """Moderation, publication and how the listing's life ended (before any order)."""
        lifetime = item.category.lifetime
        p = rng.random()
        if p < 0.02:
            return  # an abandoned draft
        item.submitted = item.created + rng.between(MINUTE, 2 * HOUR)
        item.events.append((item.submitted, "draft", "pending", item.seller, None))
        moderated = item.submitted + rng.between(5 * MINUTE, 20 * HOUR)
        if moderated >= self.as_of:
            item.status, item.changed = "pending", item.submitted
            return
        item.moderator = rng.choice(self.moderators)
        if p < 0.035:
            reason = rng.choice(data.REJECTION_REASONS)
            item.events.append((moderated, "pending", "rejected", item.moderator, reason))
            item.status, item.changed = "rejected", moderated
            return
        item.published = moderated
        item.events.append((moderated, "pending", "published", item.moderator, None))
        item.status, item.changed = "published", moderated
        end_p = rng.random()
        sold_share = {"car": 0.3, "part": 0.12, "service": 0.05}[item.kind]
        at = moderated + int(lifetime * rng.random())
        if end_p < sold_share + 0.12 and at < self.as_of:
            to = "sold" if end_p < sold_share else "archived"
            item.end = (at, "published", to, item.seller, None)
        elif moderated + lifetime < self.as_of:
            item.end = (moderated + lifetime, "published", "expired", None, "category lifetime reached")
        if item.end is not None:
            item.status, item.changed = item.end[2], item.end[0]
        if rng.random() < 0.2:  # the seller lowered the price once or twice while it was on sale
            until = item.on_sale_until(self.as_of)
            changes = sorted(
                moderated + int((until - moderated) * rng.random()) for _ in range(rng.choice((1, 1, 2)))
            )
            before, history = item.price, []
            for since in reversed(changes):
                before = before * rng.choice((105, 110, 115)) // 10_000 * 100
                history.append((since, before))
            item.prices = tuple(reversed(history))  # (since, the price before SINCE), oldest first

    def simulate_orders(self) -> None:
        """Every order in time order: stock, reservations and listing statuses follow core.place_order
        and core.close_order (a unit is sold once; an order holding every unit reserves the listing;
        a listing whose stock runs out is sold, whatever its life would have been)."""
        rng, as_of = self.rng("orders"), self.as_of
        on_sale = [item for item in self.listings if item.published is not None]
        by_side: dict[tuple[int, int], list[Listing]] = {}
        for item in on_sale:
            by_side.setdefault((item.shop or 0, item.seller), []).append(item)
        # about 4 in 10 candidates find their listing held by an earlier order or sold out: draw more
        wanted = round(self.sizes.orders * ORDER_CANDIDATES)
        anchors = rng.choices(on_sale, weights=[item.weight for item in on_sale], k=wanted)
        drafts: list[Order] = []
        for anchor in anchors:
            assert anchor.published is not None
            end = anchor.on_sale_until(as_of) - RESERVATION - MINUTE
            if end <= anchor.published:
                continue
            moment = anchor.published + int((end - anchor.published) * rng.random())
            buyer = self.person_before(rng, moment, exclude=anchor.seller)
            if buyer is None or (anchor.shop and buyer in self.shop_members[anchor.shop]):
                continue
            picked = [anchor]
            if rng.random() < 0.15:  # a cart: more of the same seller's listings on sale at the time
                side = by_side[(anchor.shop or 0, anchor.seller)]
                for other in rng.sample(side, min(len(side), 3)):
                    if (
                        other is not anchor
                        and other.published is not None
                        and other.published < moment
                        and moment < other.on_sale_until(as_of) - RESERVATION - MINUTE
                    ):
                        picked.append(other)
            lines = [(x.id - 1, 0, 0, False) for x in picked]
            drafts.append(
                Order(created=moment, buyer=buyer, seller=anchor.seller, shop=anchor.shop, lines=lines)
            )
        drafts.sort(key=lambda o: o.created)
        busy_until = [0] * len(self.listings)
        remaining = [item.quantity for item in self.listings]
        orders: list[Order] = []
        for order in drafts:
            lines = []
            for index, _, _, _ in sorted(order.lines):
                item = self.listings[index]
                if busy_until[index] > order.created or remaining[index] == 0:
                    continue  # an earlier order still holds it, or it is sold out
                qty = self.order_quantity(rng, item, remaining[index])
                price = item.price_at(order.created)
                wholesale = item.wholesale_min is not None and qty >= item.wholesale_min
                lines.append((index, qty, item.wholesale_price(price) if wholesale else price, wholesale))
            if not lines:
                continue
            order.lines = lines
            r = rng.random()
            order.status = "paid" if r < 0.6 else "cancelled" if r < 0.8 else "expired"
            closed = order.created + (
                RESERVATION if order.status == "expired" else rng.between(MINUTE, RESERVATION)
            )
            order.closed = closed
            order.checkout = len(lines) > 1 or rng.random() < 0.1
            order.key = rng.random() < 0.3
            if order.status == "paid":
                order.actor = order.seller
            elif order.status == "cancelled":
                order.actor = order.buyer if rng.random() < 0.6 else order.seller
                order.reason = rng.choice((None, "передумал", "нашёл дешевле", "нет в наличии"))
            else:
                order.reason = "not paid in time"
            for index, qty, _, _ in lines:
                item = self.listings[index]
                busy_until[index] = closed
                if qty < remaining[index]:
                    if order.status == "paid":
                        remaining[index] -= qty
                    continue
                # the order holds every unit left: the listing is reserved until it closes
                item.events.append(
                    (order.created, "published", "reserved", order.buyer, "every unit reserved")
                )
                if order.status == "paid":
                    remaining[index] = 0
                    item.end = (closed, "reserved", "sold", order.actor, "stock sold out")
                    item.status, item.changed = "sold", closed
                else:
                    item.events.append((closed, "reserved", "published", order.actor, "reservation released"))
            orders.append(order)
        for item in self.listings:
            if item.prices and item.status in ("sold", "archived", "expired"):
                # no price change after it left the market (a sell-out may come before a planned change)
                item.price = item.price_at(item.changed)
                item.prices = tuple(p for p in item.prices if p[0] < item.changed)
        self.open_orders(rng, orders, remaining)
        for item, left in zip(self.listings, remaining, strict=True):
            item.quantity = left
        orders.sort(key=lambda o: o.created)
        for oid, order in enumerate(orders, start=1):
            order.id = oid
        self.orders = orders

    def order_quantity(self, rng: Rng, item: Listing, available: int) -> int:
        if item.kind == "car" or available == 1:
            return 1
        if item.wholesale_min is not None and rng.random() < 0.1:
            return min(available, item.wholesale_min)
        return min(available, rng.choice((1, 1, 1, 1, 2, 2, 3, 4)))

    def open_orders(self, rng: Rng, orders: list[Order], remaining: list[int]) -> None:
        """Orders placed in the last minutes before as_of, still reserved (every state exists)."""
        published = [
            i for i, item in enumerate(self.listings) if item.status == "published" and remaining[i] > 0
        ]
        count = min(len(published), max(3, self.sizes.orders // 300))
        for index in rng.sample(published, count):
            item = self.listings[index]
            moment = self.as_of - rng.between(10, RESERVATION - MINUTE)
            buyer = self.person_before(rng, moment, exclude=item.seller)
            if buyer is None or (item.shop and buyer in self.shop_members[item.shop]):
                continue
            if item.events[-1][0] >= moment:
                continue
            qty = min(remaining[index], rng.choice((1, 1, 2)))
            price = item.price
            wholesale = item.wholesale_min is not None and qty >= item.wholesale_min
            order = Order(
                created=moment,
                buyer=buyer,
                seller=item.seller,
                shop=item.shop,
                lines=[(index, qty, item.wholesale_price(price) if wholesale else price, wholesale)],
                key=rng.random() < 0.5,
            )
            item.reserved = qty
            if qty == remaining[index]:
                item.events.append((moment, "published", "reserved", buyer, "every unit reserved"))
                item.status, item.changed = "reserved", moment
            orders.append(order)

    # ---- writing the listings and everything about them -----------------------------------

    def plan_counts(self) -> None:
        """Per listing: photos, favorites, likes, dislikes, contact clicks and chat messages."""
        rng, sizes = self.rng("counts"), self.sizes
        items = self.listings
        weights = [item.weight if item.published is not None else 0.0 for item in items]
        # at most half the people who had joined by the end of its time on sale like or save a listing
        caps = [
            bisect.bisect_right(self.people_created, item.on_sale_until(self.as_of)) // 2
            if item.published is not None
            else 0
            for item in items
        ]
        self.favorites = [min(n, c) for n, c in zip(spread(rng, weights, sizes.favorites), caps, strict=True)]
        reactions = [min(n, c) for n, c in zip(spread(rng, weights, sizes.reactions), caps, strict=True)]
        self.likes = [sum(1 for _ in range(n) if rng.random() < 0.85) for n in reactions]
        self.dislikes = [n - likes for n, likes in zip(reactions, self.likes, strict=True)]
        self.clicks = spread(rng, weights, sizes.contact_clicks)
        self.chat_enabled = [rng.random() < 0.97 for _ in items]
        chat_weights = [w if on else 0.0 for w, on in zip(weights, self.chat_enabled, strict=True)]
        self.chats = spread(rng, chat_weights, sizes.chat_messages)
        self.photos = []
        for item in items:
            if item.kind == "car":
                n = rng.randint(3, 12) if rng.random() < 0.95 else 0
            else:
                n = rng.choice((0, 1, 1, 2, 3, 4)) if item.kind == "part" else rng.choice((0, 1, 2, 3))
            self.photos.append(n)

    def write_listings(self) -> None:
        rng = self.rng("listing-rows")
        out = self.table(
            "listings",
            "id kind category_id seller_id shop_id title description brand model_id region city"
            " price_amount currency wholesale_price_amount wholesale_min_quantity quantity"
            " reserved_quantity contact_name contact_phone attributes status status_changed_at"
            " rejection_reason created_at sort_date bumped_at published_at expires_at promoted_until"
            " photo_count like_count dislike_count favorite_count contact_click_count chat_enabled",
        )
        for i, item in enumerate(self.listings):
            city, region, _ = data.CITIES[item.city]
            bumped = promoted = None
            sort_date = item.published or item.created
            if item.status in ("published", "reserved") and item.published is not None:
                if rng.random() < 0.2:
                    bumped = item.published + int((self.as_of - item.published) * rng.random())
                    sort_date = bumped
                if rng.random() < 0.03:
                    promoted = self.as_of + rng.between(DAY, 7 * DAY)
            expires = item.published + item.category.lifetime if item.published is not None else None
            rejection = item.events[-1][4] if item.status == "rejected" else None
            wholesale = item.wholesale_price(item.price) if item.wholesale_min else None
            contact_name = contact_phone = NULL
            if rng.random() < 0.1:
                contact_name = esc(rng.choice(self.pools.male_first))
                contact_phone = f"+79{rng.randrange(10**9):09d}"
            out.add(
                f"{item.id}\t{item.kind}\t{item.category.id}\t{item.seller}\t{opt(item.shop)}\t"
                f"{esc(item.title)}\t"
                f"{esc(item.description)}\t{opt(item.brand)}\t{opt(item.model)}\t{region}\t{city}\t"
                f"{item.price}\tRUB\t"
                f"{opt(wholesale)}\t{opt(item.wholesale_min)}\t{item.quantity}\t{item.reserved}\t"
                f"{contact_name}\t"
                f"{contact_phone}\t{js(item.attributes)}\t{item.status}\t{ts(item.changed)}\t"
                f"{opt(rejection and esc(rejection))}\t"
                f"{ts(item.created)}\t{ts(sort_date)}\t{ts_opt(bumped)}\t{ts_opt(item.published)}\t"
                f"{ts_opt(expires)}\t"
                f"{ts_opt(promoted)}\t{self.photos[i]}\t{self.likes[i]}\t{self.dislikes[i]}\t"
                f"{self.favorites[i]}\t"
                f"{self.clicks[i]}\t{'t' if self.chat_enabled[i] else 'f'}"
            )
        out.close()

    def write_listing_history(self) -> None:
        status = self.table(
            "listing_status_history", "id listing_id from_status to_status changed_at changed_by reason"
        )
        prices = self.table(
            "listing_price_history",
            "id listing_id price_amount currency wholesale_price_amount wholesale_min_quantity changed_at"
            " changed_by",
        )
        audit = []
        sid = pid = 0
        for item in self.listings:
            sid += 1
            status.add(f"{sid}\t{item.id}\t{NULL}\tdraft\t{ts(item.created)}\t{item.seller}\t{NULL}")
            events = sorted(item.events, key=lambda e: e[0]) + ([item.end] if item.end else [])
            for at, before, after, actor, reason in events:
                sid += 1
                status.add(
                    f"{sid}\t{item.id}\t{before}\t{after}\t{ts(at)}\t{opt(actor)}\t"
                    f"{opt(reason and esc(reason))}"
                )
                if before == "pending" and after in ("published", "rejected"):
                    audit.append(
                        (
                            at,
                            actor,
                            "approve_listing" if after == "published" else "reject_listing",
                            item.seller,
                            item.shop,
                            reason,
                            item.id,
                        )
                    )
            history = [(item.created, item.price_at(item.created))] + [
                (since, item.price_at(since)) for since, _ in item.prices
            ]
            for at, price in history:
                pid += 1
                wholesale = item.wholesale_price(price) if item.wholesale_min else None
                prices.add(
                    f"{pid}\t{item.id}\t{price}\tRUB\t{opt(wholesale)}\t{opt(item.wholesale_min)}\t"
                    f"{ts(at)}\t{item.seller}"
                )
        status.close()
        prices.close()
        self.moderation_audit = audit

    def write_photos_tags_fitments(self) -> None:
        rng = self.rng("photos")
        photos = self.table("listing_photos", "listing_id position storage_key")
        for i, item in enumerate(self.listings):
            for position in range(1, self.photos[i] + 1):
                photos.add(f"{item.id}\t{position}\t{photo_key(item.id, position)}")
        photos.close()
        tags = self.table("tags", "id name created_at")
        for tid, name in enumerate(data.TAGS, start=1):
            tags.add(f"{tid}\t{name}\t{ts(self.start)}")
        tags.close()
        tag_ids = range(1, len(data.TAGS) + 1)
        tag_weights = list(accumulate(1 / rank for rank in tag_ids))
        listing_tags = self.table("listing_tags", "listing_id tag_id")
        for item in self.listings:
            n = rng.choice((0, 0, 1, 1, 2, 3, 4))
            for tag in sorted(set(rng.choices(tag_ids, cum_weights=tag_weights, k=n))):
                listing_tags.add(f"{item.id}\t{tag}")
        listing_tags.close()
        fitments = self.table("part_fitments", "listing_id model_id year_from year_to added_by added_at")
        for item in self.listings:
            if item.kind != "part" or rng.random() < 0.5:
                continue
            for m in sorted(rng.sample(self.catalog.models, rng.randint(1, 3)), key=lambda m: m.id):
                year_from, year_to = rng.choice(m.years)
                fitments.add(
                    f"{item.id}\t{m.id}\t{year_from}\t{min(year_to, self.years_now)}\t{item.seller}\t"
                    f"{ts(item.created)}"
                )
        fitments.close()

    def write_reactions(self) -> None:
        rng = self.rng("reactions")
        favorites = self.table("favorites", "user_id listing_id created_at")
        reactions = self.table("listing_reactions", "user_id listing_id reaction reacted_at")
        for i, item in enumerate(self.listings):
            if item.published is None:
                continue
            end = item.on_sale_until(self.as_of)
            for n, write in ((self.favorites[i], favorites), (self.likes[i] + self.dislikes[i], reactions)):
                if n == 0:
                    continue
                # people who had joined by the end of its time on sale (more when too few had)
                k = min(len(self.people), max(n, bisect.bisect_right(self.people_created, end)))
                users = [self.people[j] for j in rng.sample(range(k), n)]
                for j, user in enumerate(sorted(users)):
                    since = max(item.published, self.user_created[user - 1])
                    at = since + int(max(0, end - since) * rng.random())
                    if write is favorites:
                        write.add(f"{user}\t{item.id}\t{ts(at)}")
                    else:
                        reaction = "like" if j < self.likes[i] else "dislike"
                        write.add(f"{user}\t{item.id}\t{reaction}\t{ts(at)}")
        favorites.close()
        reactions.close()

    def write_clicks(self) -> None:
        """The contact-click log (a third of all rows) and its daily rollup, vectorised with numpy
        and sent as binary COPY (generator/binary.py). Clicks fall while the listing was on sale;
        60% are by someone signed in who had joined by then, the rest anonymous fingerprints."""
        gen = binary.generator(self.config.seed, "clicks")
        clicked = [(item, n) for item, n in zip(self.listings, self.clicks, strict=True) if n]
        counts = np.array([n for _, n in clicked], dtype=np.int64)
        starts = np.array([item.published for item, _ in clicked], dtype=np.int64)
        ends = np.array([item.on_sale_until(self.as_of) for item, _ in clicked], dtype=np.int64)
        total = int(counts.sum())
        listing = np.repeat(np.array([item.id for item, _ in clicked], dtype=np.int64), counts)
        spans = np.repeat(np.maximum(1, ends - starts), counts)
        at = np.repeat(starts, counts) + (spans * gen.random(total)).astype(np.int64)
        people = np.array(self.people, dtype=np.int64)
        joined = np.searchsorted(np.array(self.people_created, dtype=np.int64), at, side="right")
        u = gen.random(total)
        signed = (u < 0.6) & (joined > 0)
        viewer = people[np.minimum((joined * (u / 0.6)).astype(np.int64), len(people) - 1)]
        fingerprint = binary.hex16(gen.integers(0, 2**63, total, dtype=np.int64).astype(np.uint64))
        names = sorted(set(data.CLICK_SOURCES))
        source = np.array([names.index(s) for s in data.CLICK_SOURCES])[
            gen.integers(0, len(data.CLICK_SOURCES), total)
        ]
        micros = binary.timestamps(at)
        clicks = self.table(
            "contact_clicks", "id listing_id viewer_id fingerprint source clicked_at", binary=True
        )
        cid = 0
        # one fixed-width shape per (signed in or not, source): ids run on across the groups
        for is_signed in (True, False):
            for code, name in enumerate(names):
                rows = np.flatnonzero((signed == is_signed) & (source == code))
                for part in np.array_split(rows, max(1, len(rows) // 50_000)):
                    if len(part) == 0:
                        continue
                    fields: list[binary.Field] = [
                        ("id", "int8"),
                        ("listing_id", "int8"),
                        ("viewer_id", "int8" if is_signed else None),
                        ("fingerprint", None if is_signed else 16),
                        ("source", len(name)),
                        ("clicked_at", "int8"),
                    ]
                    values = {
                        "id": np.arange(cid + 1, cid + 1 + len(part), dtype=np.int64),
                        "listing_id": listing[part],
                        "viewer_id": viewer[part],
                        "fingerprint": fingerprint[part],
                        "source": name.encode(),
                        "clicked_at": micros[part],
                    }
                    clicks.raw(binary.records(fields, values, len(part)), len(part))
                    cid += len(part)
        clicks.close()
        keys, per_day = np.unique(listing * 2**20 + at // DAY, return_counts=True)
        daily = self.table("contact_clicks_daily", "listing_id day clicks", binary=True)
        values = {
            "listing_id": keys >> 20,
            "day": (keys & (2**20 - 1)) - binary.PG_EPOCH // DAY,
            "clicks": per_day,
        }
        daily.raw(
            binary.records([("listing_id", "int8"), ("day", "int4"), ("clicks", "int4")], values, len(keys)),
            len(keys),
        )
        daily.close()

    def write_chat(self) -> None:
        rng = self.rng("chat")
        out = self.table("chat_messages", "id listing_id author_id body created_at deleted_at deleted_by")
        mid = 0
        for i, item in enumerate(self.listings):
            n = self.chats[i]
            if n == 0:
                continue
            assert item.published is not None
            start, end = item.published, item.on_sale_until(self.as_of)
            moments = sorted(start + int(max(1, end - start) * rng.random()) for _ in range(n))
            asker = self.person_before(rng, start, exclude=item.seller) or self.person_before(
                rng, end, exclude=item.seller
            )
            for j, at in enumerate(moments):
                mid += 1
                seller_turn = j % 2 == 1
                if not seller_turn and rng.random() < 0.3:
                    asker = self.person_before(rng, at, exclude=item.seller) or asker
                author = item.seller if seller_turn or asker is None else asker
                body = rng.choice(data.CHAT_ANSWERS if author == item.seller else data.CHAT_QUESTIONS)
                deleted = at + rng.between(MINUTE, HOUR) if rng.random() < 0.01 else None
                if deleted is not None and deleted > self.as_of:
                    deleted = None
                out.add(
                    f"{mid}\t{item.id}\t{author}\t{body}\t{ts(at)}\t{ts_opt(deleted)}\t"
                    f"{author if deleted else NULL}"
                )
        out.close()

    # ---- orders, deals, reviews ------------------------------------------------------------

    def write_orders(self) -> None:
        rng = self.rng("order-rows")
        checkouts = self.table("checkouts", "id buyer_id idempotency_key created_at")
        orders = self.table(
            "orders",
            "id buyer_id seller_id shop_id total_amount currency status payment_status reserved_until"
            " idempotency_key created_at closed_at checkout_id",
        )
        lines = self.table(
            "order_lines", "order_id listing_id quantity unit_price_amount wholesale line_amount"
        )
        history = self.table(
            "order_transitions", "id order_id from_status to_status changed_at changed_by reason"
        )
        # (at, user or -channel post, kind, payload as COPY-ready JSON text: encoded once, however many rows)
        self.notes: list[tuple[int, int, str, str]] = []
        # (created, seller, buyer, listing, order, confirmed): paid orders here, declared deals after
        self.deals: list[tuple[int, int, int, int | None, int | None, int | None]] = []
        checkout_id = tid = 0
        for order in self.orders:
            checkout = NULL
            if order.checkout:
                checkout_id += 1
                checkout = str(checkout_id)
                key = f"cart-{rng.getrandbits(48):012x}" if rng.random() < 0.5 else None
                checkouts.add(f"{checkout_id}\t{order.buyer}\t{opt(key)}\t{ts(order.created)}")
            total = 0
            ids = []
            for index, qty, unit, wholesale in order.lines:
                listing_id = self.listings[index].id
                ids.append(listing_id)
                total += qty * unit
                lines.add(
                    f"{order.id}\t{listing_id}\t{qty}\t{unit}\t{'t' if wholesale else 'f'}\t{qty * unit}"
                )
            paid = order.status == "paid"
            key = f"order-{order.id}" if order.key else NULL
            orders.add(
                f"{order.id}\t{order.buyer}\t{order.seller}\t{opt(order.shop)}\t{total}\tRUB\t"
                f"{order.status}\t"
                f"{'paid' if paid else 'unpaid'}\t{ts(order.created + RESERVATION)}\t{key}\t"
                f"{ts(order.created)}\t"
                f"{ts_opt(order.closed)}\t{checkout}"
            )
            tid += 1
            history.add(f"{tid}\t{order.id}\t{NULL}\treserved\t{ts(order.created)}\t{order.buyer}\t{NULL}")
            payload: dict[str, object] = {"order_id": order.id, "listing_ids": ids, "total_amount": total}
            self.notes.append((order.created, order.seller, "order_reserved", js(payload)))
            if order.closed is not None:
                tid += 1
                history.add(
                    f"{tid}\t{order.id}\treserved\t{order.status}\t{ts(order.closed)}\t{opt(order.actor)}\t"
                    f"{opt(order.reason and esc(order.reason))}"
                )
                closing = js({"order_id": order.id, "listing_ids": ids, "reason": order.reason})
                self.notes.append((order.closed, order.buyer, f"order_{order.status}", closing))
                if order.actor != order.seller:
                    self.notes.append((order.closed, order.seller, f"order_{order.status}", closing))
                if paid:
                    self.deals.append(
                        (order.closed, order.seller, order.buyer, ids[0], order.id, order.closed)
                    )
        checkouts.close()
        orders.close()
        lines.close()
        history.close()

    def write_deals(self) -> None:
        rng = self.rng("deals")
        seen: set[tuple[int, int]] = set()
        for _ in range(self.sizes.declared_deals):
            item = self.listings[rng.randrange(len(self.listings))]
            if item.published is None:
                continue
            end = item.on_sale_until(self.as_of)
            at = item.published + int((end - item.published) * rng.random())
            buyer = self.person_before(rng, at, exclude=item.seller)
            if buyer is None or (item.seller, buyer) in seen:
                continue  # one declared deal per seller and buyer (declared_deal_interval)
            seen.add((item.seller, buyer))
            confirmed = at + rng.between(HOUR, 3 * DAY) if rng.random() < 0.7 else None
            if confirmed is not None and confirmed > self.as_of:
                confirmed = None
            self.deals.append(
                (at, item.seller, buyer, item.id if rng.random() < 0.6 else None, None, confirmed)
            )
        self.deals.sort(key=lambda d: (d[0], d[4] or 0))
        deals = self.table("deals", "id seller_id buyer_id listing_id order_id created_at confirmed_at")
        reviews = self.table("reviews", "id deal_id author_id seller_id rating body created_at updated_at")
        rid = 0
        ratings = (5, 5, 5, 5, 5, 5, 4, 4, 3, 2, 1, 1)
        for did, (at, seller, buyer, listing_id, order_id, confirmed) in enumerate(self.deals, start=1):
            deals.add(
                f"{did}\t{seller}\t{buyer}\t{opt(listing_id)}\t{opt(order_id)}\t{ts(at)}\t{ts_opt(confirmed)}"
            )
            about = f'{{"deal_id":{did},"seller_id":{seller},"listing_id":{opt_json(listing_id)}}}'
            if order_id is not None:  # core.record_deal: a paid order asks for a review at once
                self.notes.append((at, buyer, "review_request", about))
            else:  # declared: the buyer is asked to confirm; api.confirm_deal then asks for a review
                self.notes.append((at, buyer, "deal_confirmation_request", about))
                if confirmed:
                    self.notes.append((confirmed, buyer, "review_request", about))
            if confirmed and rng.random() < 0.45:
                written = confirmed + rng.between(MINUTE, 7 * DAY)
                if written < self.as_of:
                    rid += 1
                    rating = rng.choice(ratings)
                    edited = written + rng.between(MINUTE, DAY) if rng.random() < 0.05 else written
                    edited = min(edited, self.as_of)
                    body = rng.choice(data.REVIEW_BODIES[rating])
                    reviews.add(
                        f"{rid}\t{did}\t{buyer}\t{seller}\t{rating}\t{body}\t{ts(written)}\t{ts(edited)}"
                    )
        deals.close()
        reviews.close()
        platform = self.table("platform_reviews", "user_id rating body created_at")
        for user in sorted(rng.sample(self.people, min(len(self.people), self.sizes.platform_reviews))):
            at = self.user_created[user - 1] + int((self.as_of - self.user_created[user - 1]) * rng.random())
            platform.add(
                f"{user}\t{rng.choice(ratings)}\t{rng.choice(data.PLATFORM_REVIEW_BODIES)}\t{ts(at)}"
            )
        platform.close()

    # ---- everything else ------------------------------------------------------------------

    def write_accounts(self) -> None:
        rng = self.rng("accounts")
        sessions = self.table("sessions", "id user_id token_hash method created_at expires_at revoked_at")
        for sid in range(1, self.sizes.sessions + 1):
            user = rng.choice(self.people)
            created = self.user_created[user - 1] + int(
                (self.as_of - self.user_created[user - 1]) * rng.random()
            )
            revoked = created + rng.between(MINUTE, SESSION_LIFETIME) if rng.random() < 0.3 else None
            if revoked is not None and revoked > self.as_of:
                revoked = None
            telegram = "telegram" in self.user_channels[user]  # a Telegram code needs a linked chat
            method = "telegram_code" if telegram and rng.random() < 0.5 else "password"
            sessions.add(
                f"{sid}\t{user}\t\\\\x{rng.getrandbits(256):064x}\t{method}\t{ts(created)}\t"
                f"{ts(created + SESSION_LIFETIME)}\t{ts_opt(revoked)}"
            )
        sessions.close()
        failures = self.table("sign_in_failures", "id identifier user_id failed_at")
        for fid in range(1, self.sizes.sign_in_failures + 1):
            user = rng.choice(self.people)
            identifier = self.user_email[user] or self.user_phone[user]
            at = self.start + int((self.as_of - self.start) * rng.random())
            if rng.random() < 0.2:  # someone guessing an address nobody has
                failures.add(f"{fid}\tnobody{fid}@example.com\t{NULL}\t{ts(at)}")
            else:
                failures.add(f"{fid}\t{identifier}\t{user}\t{ts(max(at, self.user_created[user - 1]))}")
        failures.close()
        codes = self.table(
            "sign_in_codes", "id user_id phone code_hash created_at expires_at attempts max_attempts used_at"
        )
        # codes go to a phone number (V0012): people with Telegram and a phone
        telegram_users = [
            u for u in self.people if "telegram" in self.user_channels[u] and self.user_phone[u]
        ] or [u for u in self.people if self.user_phone[u]]
        for cid in range(1, self.sizes.sign_in_codes + 1):
            user = rng.choice(telegram_users)
            at = self.user_created[user - 1] + int((self.as_of - self.user_created[user - 1]) * rng.random())
            used = at + rng.between(5, 300) if rng.random() < 0.7 else None
            codes.add(
                f"{cid}\t{user}\t{self.user_phone[user]}\t{self.config.password_hash}\t{ts(at)}\t"
                f"{ts(at + 5 * MINUTE)}\t{rng.choice((0, 0, 0, 1, 2))}\t5\t{ts_opt(used)}"
            )
        codes.close()

    def write_audit(self) -> None:
        """Staff actions: roles given, people blocked, listings approved or rejected."""
        # details are written as JSON text directly: a million json.dumps of {"listing_id": n} cost seconds
        entries: list[tuple[int, int | None, str, int | None, int | None, str | None, str]] = [
            (
                self.user_created[m - 1] + HOUR,
                self.admins[0],
                "set_user_role",
                m,
                None,
                None,
                '{"from":"user","to":"moderator"}',
            )
            for m in self.moderators
        ]
        entries += [(at, by, "block_user", user, None, reason, "{}") for user, at, by, reason in self.blocks]
        entries += [
            (at, actor, action, seller, shop, reason, f'{{"listing_id":{lid}}}')
            for at, actor, action, seller, shop, reason, lid in self.moderation_audit
        ]
        entries += [
            (at, by, "create_ad_campaign", None, None, None, f'{{"campaign_id":{cid}}}')
            for cid, at, by in self.campaigns
        ]
        entries += [
            (at, by, "create_channel", None, None, None, f'{{"channel_id":{cid}}}')
            for cid, at, by in self.channel_audit
        ]
        entries.sort(key=lambda e: (e[0], e[2]))
        out = self.table(
            "audit_log", "id created_at actor_id action target_user_id target_shop_id reason details"
        )
        for aid, (at, actor, action, user, shop, reason, details) in enumerate(entries, start=1):
            out.add(
                f"{aid}\t{ts(at)}\t{opt(actor)}\t{action}\t{opt(user)}\t{opt(shop)}\t"
                f"{opt(reason and esc(reason))}\t{details}"
            )
        out.close()

    def write_campaigns_and_channels(self) -> None:
        rng = self.rng("channels")
        campaigns = self.table(
            "ad_campaigns", "id category_id title body starts_at ends_at created_by created_at"
        )
        self.campaigns = []
        for cid in range(1, self.sizes.ad_campaigns + 1):
            category = rng.choice(self.catalog.categories)
            starts = self.start + int((self.as_of - self.start) * rng.random())
            admin = rng.choice(self.admins)
            brand = rng.choice(data.PART_BRANDS + data.TYRE_BRANDS)
            campaigns.add(
                f"{cid}\t{category.id}\t{brand}: скидки до 20%\tТолько в этом месяце\t{ts(starts)}\t"
                f"{ts(starts + rng.choice((7, 14, 30)) * DAY)}\t{admin}\t{ts(starts)}"
            )
            self.campaigns.append((cid, starts, admin))
        campaigns.close()
        cat = self.catalog.by_slug
        specs = [
            ("Авто Москва", "Москва", "cars"),
            ("Запчасти Москва", "Москва", "parts"),
            ("Авто Петербург", "Санкт-Петербург", "cars"),
            ("Шины и диски Екатеринбург", "Свердловская область", "tyres-wheels"),
            ("Внедорожники Сибири", "Новосибирская область", "suv"),
            ("Авто Казань", "Республика Татарстан", "cars"),
            ("Изготовление на заказ", None, "services"),
            ("Аккумуляторы", None, "batteries"),
            ("Краснодар: всё для авто", "Краснодарский край", None),
        ]
        channels = self.table(
            "telegram_channels", "id name telegram_chat_id region category_id active created_by created_at"
        )
        self.channel_audit = []
        matchers: list[tuple[int, int, str | None, int | None]] = []
        for chid, (name, region, slug) in enumerate(specs, start=1):
            at = self.start + rng.between(DAY, 30 * DAY)
            admin = rng.choice(self.admins)
            category_id = cat(slug).id if slug else None
            channels.add(
                f"{chid}\t{name}\t{-1_001_000_000_000 - chid}\t{opt(region)}\t{opt(category_id)}\t"
                f"t\t{admin}\t{ts(at)}"
            )
            self.channel_audit.append((chid, at, admin))
            matchers.append((chid, at, region, category_id))
        channels.close()
        posts = self.table(
            "channel_posts",
            "id channel_id listing_id telegram_message_id snapshot queued_snapshot created_at delivered_at",
        )
        pid = 0
        for i, item in enumerate(self.listings):
            if item.published is None:
                continue
            region = data.CITIES[item.city][1]
            status = {"published": "on_sale", "reserved": "reserved"}.get(item.status, "sold")
            snapshot: str | None = None  # what the channel shows now (its edits were delivered)
            first: str | None = None
            for chid, since, ch_region, ch_category in matchers:
                if since > item.published or (ch_region is not None and ch_region != region):
                    continue
                if ch_category is not None and ch_category not in item.category.path:
                    continue
                pid += 1
                if snapshot is None:  # the same for every channel the listing is posted to
                    snapshot = js(
                        {
                            "title": item.title,
                            "description": item.description,
                            "price_amount": item.price,
                            "currency": "RUB",
                            "photos": [photo_key(item.id, n) for n in range(1, self.photos[i] + 1)],
                            "status": status,
                        }
                    )
                delivered = item.published + rng.between(5, 600)
                pending = delivered > self.as_of
                posts.add(
                    f"{pid}\t{chid}\t{item.id}\t{NULL if pending else 10_000 + pid}\t"
                    f"{NULL if pending else snapshot}\t{snapshot}\t{ts(item.published)}\t"
                    f"{NULL if pending else ts(delivered)}"
                )
                if first is None:  # what the post showed when it was queued, at publication
                    first = js(
                        {
                            "title": item.title,
                            "description": item.description,
                            "price_amount": item.price_at(item.published),
                            "currency": "RUB",
                            "photos": [photo_key(item.id, n) for n in range(1, self.photos[i] + 1)],
                            "status": "on_sale",
                        }
                    )
                payload = (
                    f'{{"post_id":{pid},"channel_id":{chid},"listing_id":{item.id},"snapshot":{first},'
                    '"marked_sold":false}'
                )
                self.notes.append((item.published, -pid, "channel_post", payload))
        posts.close()

    def write_shopping(self) -> None:
        rng = self.rng("shopping")
        cart = self.table("cart_items", "buyer_id listing_id quantity added_at updated_at")
        on_sale = [
            item for item in self.listings if item.status == "published" and item.quantity > item.reserved
        ]
        seen: set[tuple[int, int]] = set()
        rows = []
        for _ in range(self.sizes.cart_items):
            if not on_sale:
                break
            item = rng.choice(on_sale)
            buyer = self.person_before(rng, self.as_of, exclude=item.seller)
            if (
                buyer is None
                or (buyer, item.id) in seen
                or (item.shop and buyer in self.shop_members[item.shop])
            ):
                continue
            seen.add((buyer, item.id))
            assert item.published is not None
            at = max(item.published, self.user_created[buyer - 1]) + rng.between(MINUTE, 3 * DAY)
            at = min(at, self.as_of - MINUTE)
            rows.append((buyer, item.id, min(item.quantity - item.reserved, rng.choice((1, 1, 2))), at))
        for buyer, lid, qty, at in sorted(rows):
            cart.add(f"{buyer}\t{lid}\t{qty}\t{ts(at)}\t{ts(at)}")
        cart.close()
        # typed filter columns (V0012): kind, category, model, price ceiling, region
        searches = self.table(
            "saved_searches", "id user_id name query kind category_id model_id price_max region created_at"
        )
        for sid in range(1, self.sizes.saved_searches + 1):
            user = rng.choice(self.people)
            at = self.user_created[user - 1] + int((self.as_of - self.user_created[user - 1]) * rng.random())
            r = rng.random()
            query = kind = category = model = price_max = region = NULL
            if r < 0.4:
                m = rng.choice(self.catalog.models)
                kind, model, price_max = "car", str(m.id), str(rng.choice((1, 2, 3, 5)) * 1_000_000_00)
                name = f"{m.make} {m.name}"
            elif r < 0.7:
                slug = rng.choice(list(data.PARTS))
                category = str(self.catalog.by_slug(slug).id)
                name = data.PARTS[slug][0][0]
            else:
                query = rng.choice(data.PARTS[rng.choice(list(data.PARTS))][0]).split()[0].lower()
                city, region_name, _ = data.CITIES[self.user_city[user]]
                kind, region = "part", esc(region_name)
                name = f"{query} ({city})"
            searches.add(
                f"{sid}\t{user}\t{esc(name)}\t{query}\t{kind}\t{category}\t{model}\t{price_max}\t"
                f"{region}\t{ts(at)}"
            )
        searches.close()
        # every publication of the history was matched against the saved searches long ago
        self.table("saved_search_queue", "listing_id queued_at attempts last_error").close()

    def write_notifications(self) -> None:
        """The outbox: one row per event and preferred channel (core.notify), channel posts to their chat;
        old ones delivered, a few set aside as failed, the latest still waiting."""
        rng = self.rng("notifications")
        self.notes.sort(key=lambda n: (n[0], n[1]))
        out = self.table(
            "notifications",
            "id user_id channel_post_id channel kind payload created_at attempts delivered_at failed_at",
        )
        nid = 0
        for at, target, kind, payload in self.notes:
            if target < 0:
                targets = [(NULL, str(-target), "telegram")]
            elif self.user_blocked[target]:
                continue
            else:
                targets = [(str(target), NULL, channel) for channel in self.user_channels[target]]
            body = payload
            for user, post, channel in targets:
                nid += 1
                attempts, delivered, failed = 1, NULL, NULL
                delay = rng.between(1, 120)
                if at + delay > self.as_of:
                    attempts = 0  # still waiting for a worker
                elif rng.random() < 0.003 and at + HOUR <= self.as_of:
                    attempts, failed = 10, ts(at + HOUR)
                else:
                    delivered = ts(at + delay)
                out.add(
                    f"{nid}\t{user}\t{post}\t{channel}\t{kind}\t{body}\t{ts(at)}\t{attempts}\t{delivered}\t"
                    f"{failed}"
                )
        out.close()


STAGES: tuple[Callable[[World], None], ...] = (
    World.users,
    World.shops,
    World.plan_listings,
    World.describe_listings,
    World.live_listings,
    World.simulate_orders,
    World.plan_counts,
    World.write_listings,
    World.write_listing_history,
    World.write_photos_tags_fitments,
    World.write_reactions,
    World.write_clicks,
    World.write_chat,
    World.write_orders,
    World.write_deals,
    World.write_campaigns_and_channels,
    World.write_shopping,
    World.write_notifications,
    World.write_accounts,
    World.write_audit,
)


def produce(config: Config, catalog: Catalog, send: Send) -> None:
    """Generate the whole marketplace, table by table, into SEND."""
    world = World(config, catalog, send)
    for stage in STAGES:
        stage(world)
