"""Commerce: every order simulated in time order against the listings' stock, then the orders with
their lines and histories, deals and reviews, carts and saved searches."""

from __future__ import annotations

from generator import data
from generator.text import NULL, esc, js, opt, opt_json, ts, ts_opt
from generator.world.clock import DAY, HOUR, MINUTE
from generator.world.context import Context
from generator.world.draw import Rng
from generator.world.plan import Listing, Order, People, Plan, Shops

ORDER_CANDIDATES = 1.8  # candidate orders drawn per order wanted (measured: ~300k kept at scale 1)


def simulate_orders(ctx: Context, plan: Plan) -> None:
    """Every order in time order: stock, reservations and listing statuses follow core.place_order
    and core.close_order (a unit is sold once; an order holding every unit reserves the listing;
    a listing whose stock runs out is sold, whatever its life would have been)."""
    rng, as_of = ctx.rng("orders"), ctx.as_of
    reservation = ctx.catalog.settings.reservation_lifetime
    people, shops, listings = plan.people, plan.shops, plan.listings
    on_sale = [item for item in listings if item.published is not None]
    by_side: dict[tuple[int, int], list[Listing]] = {}
    for item in on_sale:
        by_side.setdefault((item.shop or 0, item.seller), []).append(item)
    # about 4 in 10 candidates find their listing held by an earlier order or sold out: draw more
    wanted = round(ctx.sizes.orders * ORDER_CANDIDATES)
    anchors = rng.choices(on_sale, weights=[item.weight for item in on_sale], k=wanted)
    drafts: list[Order] = []
    for anchor in anchors:
        assert anchor.published is not None
        end = anchor.on_sale_until(as_of) - reservation - MINUTE
        if end <= anchor.published:
            continue
        moment = anchor.published + int((end - anchor.published) * rng.random())
        buyer = people.person_before(rng, moment, exclude=anchor.seller)
        if buyer is None or (anchor.shop and buyer in shops.members[anchor.shop]):
            continue
        picked = [anchor]
        if rng.random() < 0.15:  # a cart: more of the same seller's listings on sale at the time
            side = by_side[(anchor.shop or 0, anchor.seller)]
            for other in rng.sample(side, min(len(side), 3)):
                if (
                    other is not anchor
                    and other.published is not None
                    and other.published < moment
                    and moment < other.on_sale_until(as_of) - reservation - MINUTE
                ):
                    picked.append(other)
        lines = [(x.id - 1, 0, 0, False) for x in picked]
        drafts.append(Order(created=moment, buyer=buyer, seller=anchor.seller, shop=anchor.shop, lines=lines))
    drafts.sort(key=lambda o: o.created)
    busy_until = [0] * len(listings)
    remaining = [item.quantity for item in listings]
    orders: list[Order] = []
    for order in drafts:
        lines = []
        for index, _, _, _ in sorted(order.lines):
            item = listings[index]
            if busy_until[index] > order.created or remaining[index] == 0:
                continue  # an earlier order still holds it, or it is sold out
            qty = order_quantity(rng, item, remaining[index])
            price = item.price_at(order.created)
            wholesale = item.wholesale_min is not None and qty >= item.wholesale_min
            lines.append((index, qty, item.wholesale_price(price) if wholesale else price, wholesale))
        if not lines:
            continue
        order.lines = lines
        r = rng.random()
        order.status = "paid" if r < 0.6 else "cancelled" if r < 0.8 else "expired"
        closed = order.created + (
            reservation if order.status == "expired" else rng.between(MINUTE, reservation)
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
            item = listings[index]
            busy_until[index] = closed
            if qty < remaining[index]:
                if order.status == "paid":
                    remaining[index] -= qty
                continue
            # the order holds every unit left: the listing is reserved until it closes
            item.events.append((order.created, "published", "reserved", order.buyer, "every unit reserved"))
            if order.status == "paid":
                remaining[index] = 0
                item.end = (closed, "reserved", "sold", order.actor, "stock sold out")
                item.status, item.changed = "sold", closed
            else:
                item.events.append((closed, "reserved", "published", order.actor, "reservation released"))
        orders.append(order)
    for item in listings:
        if item.prices and item.status in ("sold", "archived", "expired"):
            # no price change after it left the market (a sell-out may come before a planned change)
            item.price = item.price_at(item.changed)
            item.prices = tuple(p for p in item.prices if p[0] < item.changed)
    open_orders(ctx, rng, people, shops, listings, orders, remaining)
    for item, left in zip(listings, remaining, strict=True):
        item.quantity = left
    orders.sort(key=lambda o: o.created)
    for oid, order in enumerate(orders, start=1):
        order.id = oid
    plan.orders = orders


def order_quantity(rng: Rng, item: Listing, available: int) -> int:
    if item.kind == "car" or available == 1:
        return 1
    if item.wholesale_min is not None and rng.random() < 0.1:
        return min(available, item.wholesale_min)
    return min(available, rng.choice((1, 1, 1, 1, 2, 2, 3, 4)))


def open_orders(
    ctx: Context,
    rng: Rng,
    people: People,
    shops: Shops,
    listings: list[Listing],
    orders: list[Order],
    remaining: list[int],
) -> None:
    """Orders placed in the last minutes before as_of, still reserved (every state exists)."""
    published = [i for i, item in enumerate(listings) if item.status == "published" and remaining[i] > 0]
    count = min(len(published), max(3, ctx.sizes.orders // 300))
    for index in rng.sample(published, count):
        item = listings[index]
        moment = ctx.as_of - rng.between(10, ctx.catalog.settings.reservation_lifetime - MINUTE)
        buyer = people.person_before(rng, moment, exclude=item.seller)
        if buyer is None or (item.shop and buyer in shops.members[item.shop]):
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


def write_orders(ctx: Context, plan: Plan) -> None:
    """Checkouts, orders, their lines and transitions; the outbox hears of every one."""
    rng = ctx.rng("order-rows")
    reservation = ctx.catalog.settings.reservation_lifetime
    listings, outbox = plan.listings, plan.outbox
    checkouts = ctx.table("checkouts", "id buyer_id idempotency_key created_at")
    orders = ctx.table(
        "orders",
        "id buyer_id seller_id shop_id total_amount currency status payment_status reserved_until"
        " idempotency_key created_at closed_at checkout_id",
    )
    lines = ctx.table("order_lines", "order_id listing_id quantity unit_price_amount wholesale line_amount")
    history = ctx.table(
        "order_status_history", "id order_id from_status to_status changed_at changed_by reason"
    )
    checkout_id = tid = 0
    for order in plan.orders:
        checkout = NULL
        if order.checkout:
            checkout_id += 1
            checkout = str(checkout_id)
            key = f"cart-{rng.getrandbits(48):012x}" if rng.random() < 0.5 else None
            checkouts.add(f"{checkout_id}\t{order.buyer}\t{opt(key)}\t{ts(order.created)}")
        total = 0
        ids = []
        for index, qty, unit, wholesale in order.lines:
            listing_id = listings[index].id
            ids.append(listing_id)
            total += qty * unit
            lines.add(f"{order.id}\t{listing_id}\t{qty}\t{unit}\t{'t' if wholesale else 'f'}\t{qty * unit}")
        paid = order.status == "paid"
        key = f"order-{order.id}" if order.key else NULL
        orders.add(
            f"{order.id}\t{order.buyer}\t{order.seller}\t{opt(order.shop)}\t{total}\tRUB\t"
            f"{order.status}\t"
            f"{'paid' if paid else 'unpaid'}\t{ts(order.created + reservation)}\t{key}\t"
            f"{ts(order.created)}\t"
            f"{ts_opt(order.closed)}\t{checkout}"
        )
        tid += 1
        history.add(f"{tid}\t{order.id}\t{NULL}\treserved\t{ts(order.created)}\t{order.buyer}\t{NULL}")
        payload: dict[str, object] = {"order_id": order.id, "listing_ids": ids, "total_amount": total}
        outbox.append((order.created, order.seller, "order_reserved", js(payload)))
        if order.closed is not None:
            tid += 1
            history.add(
                f"{tid}\t{order.id}\treserved\t{order.status}\t{ts(order.closed)}\t{opt(order.actor)}\t"
                f"{opt(order.reason and esc(order.reason))}"
            )
            closing = js({"order_id": order.id, "listing_ids": ids, "reason": order.reason})
            outbox.append((order.closed, order.buyer, f"order_{order.status}", closing))
            if order.actor != order.seller:
                outbox.append((order.closed, order.seller, f"order_{order.status}", closing))
    checkouts.close()
    orders.close()
    lines.close()
    history.close()


def write_deals(ctx: Context, plan: Plan) -> None:
    """Deals (one per paid order, and deals sellers declared), reviews of confirmed deals, reviews of
    the platform; the outbox asks buyers to confirm and review."""
    rng, as_of = ctx.rng("deals"), ctx.as_of
    people, listings, outbox = plan.people, plan.listings, plan.outbox
    # (created, seller, buyer, listing, order, confirmed): a paid order is a confirmed deal at once
    deals: list[tuple[int, int, int, int | None, int | None, int | None]] = []
    for order in plan.orders:
        if order.status == "paid":
            assert order.closed is not None
            first = listings[order.lines[0][0]].id
            deals.append((order.closed, order.seller, order.buyer, first, order.id, order.closed))
    seen: set[tuple[int, int]] = set()
    for _ in range(ctx.sizes.declared_deals):
        item = listings[rng.randrange(len(listings))]
        if item.published is None:
            continue
        end = item.on_sale_until(as_of)
        at = item.published + int((end - item.published) * rng.random())
        buyer = people.person_before(rng, at, exclude=item.seller)
        if buyer is None or (item.seller, buyer) in seen:
            continue  # one declared deal per seller and buyer (declared_deal_interval)
        seen.add((item.seller, buyer))
        confirmed = at + rng.between(HOUR, 3 * DAY) if rng.random() < 0.7 else None
        if confirmed is not None and confirmed > as_of:
            confirmed = None
        deals.append((at, item.seller, buyer, item.id if rng.random() < 0.6 else None, None, confirmed))
    deals.sort(key=lambda d: (d[0], d[4] or 0))
    deal_rows = ctx.table("deals", "id seller_id buyer_id listing_id order_id created_at confirmed_at")
    reviews = ctx.table("reviews", "id deal_id author_id seller_id rating body created_at updated_at")
    rid = 0
    ratings = (5, 5, 5, 5, 5, 5, 4, 4, 3, 2, 1, 1)
    for did, (at, seller, buyer, listing_id, order_id, confirmed) in enumerate(deals, start=1):
        deal_rows.add(
            f"{did}\t{seller}\t{buyer}\t{opt(listing_id)}\t{opt(order_id)}\t{ts(at)}\t{ts_opt(confirmed)}"
        )
        about = f'{{"deal_id":{did},"seller_id":{seller},"listing_id":{opt_json(listing_id)}}}'
        if order_id is not None:  # core.record_deal: a paid order asks for a review at once
            outbox.append((at, buyer, "review_request", about))
        else:  # declared: the buyer is asked to confirm; api.confirm_deal then asks for a review
            outbox.append((at, buyer, "deal_confirmation_request", about))
            if confirmed:
                outbox.append((confirmed, buyer, "review_request", about))
        if confirmed and rng.random() < 0.45:
            written = confirmed + rng.between(MINUTE, 7 * DAY)
            if written < as_of:
                rid += 1
                rating = rng.choice(ratings)
                edited = written + rng.between(MINUTE, DAY) if rng.random() < 0.05 else written
                edited = min(edited, as_of)
                body = rng.choice(data.REVIEW_BODIES[rating])
                reviews.add(f"{rid}\t{did}\t{buyer}\t{seller}\t{rating}\t{body}\t{ts(written)}\t{ts(edited)}")
    deal_rows.close()
    reviews.close()
    platform = ctx.table("platform_reviews", "user_id rating body created_at")
    for user in sorted(rng.sample(people.traders, min(len(people.traders), ctx.sizes.platform_reviews))):
        at = people.created[user - 1] + int((as_of - people.created[user - 1]) * rng.random())
        platform.add(f"{user}\t{rng.choice(ratings)}\t{rng.choice(data.PLATFORM_REVIEW_BODIES)}\t{ts(at)}")
    platform.close()


def write_shopping(ctx: Context, plan: Plan) -> None:
    """Carts holding listings on sale, and saved searches."""
    rng, as_of = ctx.rng("shopping"), ctx.as_of
    people, shops = plan.people, plan.shops
    cart = ctx.table("cart_items", "buyer_id listing_id quantity added_at updated_at")
    on_sale = [item for item in plan.listings if item.status == "published" and item.quantity > item.reserved]
    seen: set[tuple[int, int]] = set()
    rows = []
    for _ in range(ctx.sizes.cart_items):
        if not on_sale:
            break
        item = rng.choice(on_sale)
        buyer = people.person_before(rng, as_of, exclude=item.seller)
        if buyer is None or (buyer, item.id) in seen or (item.shop and buyer in shops.members[item.shop]):
            continue
        seen.add((buyer, item.id))
        assert item.published is not None
        at = max(item.published, people.created[buyer - 1]) + rng.between(MINUTE, 3 * DAY)
        at = min(at, as_of - MINUTE)
        rows.append((buyer, item.id, min(item.quantity - item.reserved, rng.choice((1, 1, 2))), at))
    for buyer, lid, qty, at in sorted(rows):
        cart.add(f"{buyer}\t{lid}\t{qty}\t{ts(at)}\t{ts(at)}")
    cart.close()
    # typed filter columns (V0014): kind, category, model, price ceiling, region
    searches = ctx.table(
        "saved_searches", "id user_id name query kind category_id model_id price_max region created_at"
    )
    catalog = ctx.catalog
    for sid in range(1, ctx.sizes.saved_searches + 1):
        user = rng.choice(people.traders)
        at = people.created[user - 1] + int((as_of - people.created[user - 1]) * rng.random())
        r = rng.random()
        query = kind = category = model = price_max = region = NULL
        if r < 0.4:
            m = rng.choice(catalog.models)
            kind, model, price_max = "car", str(m.id), str(rng.choice((1, 2, 3, 5)) * 1_000_000_00)
            name = f"{m.make} {m.name}"
        elif r < 0.7:
            slug = rng.choice(list(data.PARTS))
            category = str(catalog.by_slug(slug).id)
            name = data.PARTS[slug][0][0]
        else:
            query = rng.choice(data.PARTS[rng.choice(list(data.PARTS))][0]).split()[0].lower()
            city, region_name, _ = data.CITIES[people.city[user]]
            kind, region = "part", esc(region_name)
            name = f"{query} ({city})"
        searches.add(
            f"{sid}\t{user}\t{esc(name)}\t{query}\t{kind}\t{category}\t{model}\t{price_max}\t{region}\t{ts(at)}"
        )
    searches.close()
    # every publication of the history was matched against the saved searches long ago
    ctx.table("saved_search_queue", "listing_id queued_at attempts last_error").close()
