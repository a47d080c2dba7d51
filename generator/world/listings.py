"""Listings: who lists what, where and when, each one's life (moderation, publication, how its
time on sale ended), what its counters will say; then the listings, their status and price
histories, photos, tags and fitments."""

from __future__ import annotations

import bisect
from itertools import accumulate

from generator import data
from generator.text import NULL, esc, js, opt, ts, ts_opt
from generator.world.clock import DAY, HOUR, MINUTE
from generator.world.context import Context
from generator.world.draw import Rng, spread
from generator.world.plan import Counts, Listing, Plan


def photo_key(listing_id: int, position: int) -> str:
    """Where a listing's photo lies in object storage."""
    return f"listings/{listing_id}/{position}.jpg"


def plan_listings(ctx: Context, plan: Plan) -> None:
    """Every listing's kind, category, seller (and shop), city, creation and popularity; ids in
    creation order."""
    rng, n, as_of, start = ctx.rng("listings"), ctx.sizes.listings, ctx.as_of, ctx.start
    people, shops = plan.people, plan.shops
    cat = ctx.catalog
    car_models = list(cat.models)
    model_weights = list(
        accumulate(3.0 if m.make in ("Lada", "Toyota", "Kia", "Hyundai") else 1.0 for m in car_models)
    )
    part_cats = [cat.by_slug(s) for s in data.PARTS]
    part_weights = list(accumulate(1.0 if len(c.path) == 2 else 2.5 for c in part_cats))
    service_cats = [cat.by_slug(s) for s in data.SERVICES]
    car_cats = {slug: cat.by_slug(slug) for slug in ("passenger-cars", "suv", "commercial")}
    # a shop lists in proportion to its size (Pareto) and to how long it has existed
    shop_weights = [
        rng.paretovariate(1.2) * (as_of - shops.created[s]) / (as_of - start)
        for s in range(1, ctx.sizes.shops + 1)
    ]
    seller_weights = [rng.paretovariate(1.5) for _ in people.traders]
    sellers = rng.choices(people.traders, weights=seller_weights, k=n)
    shop_ids = rng.choices(range(1, ctx.sizes.shops + 1), weights=shop_weights, k=n)
    listings: list[Listing] = []
    for i in range(n):
        r = rng.random()
        kind = "car" if r < 0.2 else "part" if r < 0.9 else "service"
        shop_share = {"car": 0.15, "part": 0.55, "service": 0.5}[kind]
        if rng.random() < shop_share:
            shop: int | None = shop_ids[i]
            assert shop is not None
            seller = rng.choice(shops.members[shop])
            city = shops.city[shop]
            since = shops.member_since[(shop, seller)]
        else:
            shop = None
            seller = sellers[i]
            city = people.city[seller]
            since = people.created[seller - 1]
        since = max(since, start)
        created = since + int((as_of - 2 * MINUTE - since) * rng.random())
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
            rng.paretovariate(1.16) * {"car": 3.0, "part": 1.0, "service": 0.6}[kind] * (pop / 1000) ** 0.2
        )
        listings.append(item)
    listings.sort(key=lambda item: item.created)
    for lid, item in enumerate(listings, start=1):
        item.id = lid
    plan.listings = listings


def live_listings(ctx: Context, plan: Plan) -> None:
    """Each listing's life before any order: moderation, publication, price drops and how its time
    on sale ended."""
    rng = ctx.rng("lives")
    moderators = plan.people.moderators
    for item in plan.listings:
        live(rng, item, moderators, ctx.as_of)


def live(rng: Rng, item: Listing, moderators: list[int], as_of: int) -> None:
    """Moderation, publication and how the listing's life ended (before any order)."""
    lifetime = item.category.lifetime
    p = rng.random()
    if p < 0.02:
        return  # an abandoned draft
    item.submitted = item.created + rng.between(MINUTE, 2 * HOUR)
    item.events.append((item.submitted, "draft", "pending", item.seller, None))
    moderated = item.submitted + rng.between(5 * MINUTE, 20 * HOUR)
    if moderated >= as_of:
        item.status, item.changed = "pending", item.submitted
        return
    item.moderator = rng.choice(moderators)
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
    if end_p < sold_share + 0.12 and at < as_of:
        to = "sold" if end_p < sold_share else "archived"
        item.end = (at, "published", to, item.seller, None)
    elif moderated + lifetime < as_of:
        item.end = (moderated + lifetime, "published", "expired", None, "category lifetime reached")
    if item.end is not None:
        item.status, item.changed = item.end[2], item.end[0]
    if rng.random() < 0.2:  # the seller lowered the price once or twice while it was on sale
        until = item.on_sale_until(as_of)
        changes = sorted(
            moderated + int((until - moderated) * rng.random()) for _ in range(rng.choice((1, 1, 2)))
        )
        before, history = item.price, []
        for since in reversed(changes):
            before = before * rng.choice((105, 110, 115)) // 10_000 * 100
            history.append((since, before))
        item.prices = tuple(reversed(history))  # (since, the price before SINCE), oldest first


def plan_counts(ctx: Context, plan: Plan) -> None:
    """Per listing: photos, favorites, likes, dislikes, contact clicks and chat messages."""
    rng, sizes = ctx.rng("counts"), ctx.sizes
    items = plan.listings
    traders_created = plan.people.traders_created
    weights = [item.weight if item.published is not None else 0.0 for item in items]
    # at most half the people who had joined by the end of its time on sale like or save a listing
    caps = [
        bisect.bisect_right(traders_created, item.on_sale_until(ctx.as_of)) // 2
        if item.published is not None
        else 0
        for item in items
    ]
    favorites = [min(n, c) for n, c in zip(spread(rng, weights, sizes.favorites), caps, strict=True)]
    reactions = [min(n, c) for n, c in zip(spread(rng, weights, sizes.reactions), caps, strict=True)]
    likes = [sum(1 for _ in range(n) if rng.random() < 0.85) for n in reactions]
    dislikes = [n - liked for n, liked in zip(reactions, likes, strict=True)]
    clicks = spread(rng, weights, sizes.contact_clicks)
    chat_enabled = [rng.random() < 0.97 for _ in items]
    chat_weights = [w if on else 0.0 for w, on in zip(weights, chat_enabled, strict=True)]
    chats = spread(rng, chat_weights, sizes.chat_messages)
    photos = []
    for item in items:
        if item.kind == "car":
            n = rng.randint(3, 12) if rng.random() < 0.95 else 0
        else:
            n = rng.choice((0, 1, 1, 2, 3, 4)) if item.kind == "part" else rng.choice((0, 1, 2, 3))
        photos.append(n)
    plan.counts = Counts(
        photos=photos,
        favorites=favorites,
        likes=likes,
        dislikes=dislikes,
        clicks=clicks,
        chat_enabled=chat_enabled,
        chats=chats,
    )


def write_listings(ctx: Context, plan: Plan) -> None:
    rng, as_of = ctx.rng("listing-rows"), ctx.as_of
    counts = plan.counts
    out = ctx.table(
        "listings",
        "id kind category_id seller_id shop_id title description brand model_id region city"
        " price_amount currency wholesale_price_amount wholesale_min_quantity quantity"
        " reserved_quantity contact_name contact_phone attributes status status_changed_at"
        " rejection_reason created_at sort_date bumped_at published_at expires_at promoted_until"
        " photo_count like_count dislike_count favorite_count contact_click_count chat_enabled",
    )
    for i, item in enumerate(plan.listings):
        city, region, _ = data.CITIES[item.city]
        bumped = promoted = None
        sort_date = item.published or item.created
        if item.status in ("published", "reserved") and item.published is not None:
            if rng.random() < 0.2:
                bumped = item.published + int((as_of - item.published) * rng.random())
                sort_date = bumped
            if rng.random() < 0.03:
                promoted = as_of + rng.between(DAY, 7 * DAY)
        expires = item.published + item.category.lifetime if item.published is not None else None
        rejection = item.events[-1][4] if item.status == "rejected" else None
        wholesale = item.wholesale_price(item.price) if item.wholesale_min else None
        contact_name = contact_phone = NULL
        if rng.random() < 0.1:
            contact_name = esc(rng.choice(ctx.pools.male_first))
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
            f"{ts_opt(promoted)}\t{counts.photos[i]}\t{counts.likes[i]}\t{counts.dislikes[i]}\t"
            f"{counts.favorites[i]}\t"
            f"{counts.clicks[i]}\t{'t' if counts.chat_enabled[i] else 'f'}"
        )
    out.close()


def write_promotions(ctx: Context, plan: Plan) -> None:
    """Promotion sellers bought (api.buy_promotion): paid ones in the past, some cancelled or never
    paid (expired); what a listing shows as promoted now is write_listings' draw."""
    rng, as_of = ctx.rng("promotions"), ctx.as_of
    price = 10_000  # promotion_price_per_day's default
    reservation = ctx.catalog.settings.reservation_lifetime
    admins = list(range(1, ctx.sizes.admins + 1))
    out = ctx.table(
        "promotion_orders",
        "id listing_id buyer_id days total_amount currency status created_at reserved_until closed_at"
        " closed_by promoted_until",
    )
    oid = 0
    for item in plan.listings:
        if item.published is None or rng.random() >= 0.02:
            continue
        days = rng.choice((1, 3, 7, 7, 14, 30))
        at = item.published + int((as_of - item.published) * rng.random())
        if at + reservation + days * DAY > as_of:
            continue  # history only: nothing still reserved or running
        oid += 1
        status = rng.choice(("paid", "paid", "paid", "cancelled", "expired"))
        closed = at + (rng.between(MINUTE, reservation) if status != "expired" else reservation)
        closer = {"paid": str(rng.choice(admins)), "cancelled": str(item.seller), "expired": NULL}[status]
        until = ts(closed + days * DAY) if status == "paid" else NULL
        out.add(
            f"{oid}\t{item.id}\t{item.seller}\t{days}\t{days * price}\tRUB\t{status}\t{ts(at)}\t"
            f"{ts(at + reservation)}\t{ts(closed)}\t{closer}\t{until}"
        )
    out.close()


def write_place_counts(ctx: Context, plan: Plan) -> None:
    """The rollup api.places reads (ops.refresh_place_counts, as of the load): listings on sale by
    kind, region and city."""
    counts: dict[tuple[str, str, str], int] = {}
    for item in plan.listings:
        if item.status == "published":
            city, region, _ = data.CITIES[item.city]
            key = (item.kind, region, city)
            counts[key] = counts.get(key, 0) + 1
    out = ctx.table("place_counts", "kind region city listings refreshed_at")
    for (kind, region, city), n in sorted(counts.items()):
        out.add(f"{kind}\t{region}\t{city}\t{n}\t{ts(ctx.as_of)}")
    out.close()


def write_listing_history(ctx: Context, plan: Plan) -> None:
    """Every status change and price of every listing; moderation decisions go to the audit log."""
    status = ctx.table(
        "listing_status_history", "id listing_id from_status to_status changed_at changed_by reason"
    )
    prices = ctx.table(
        "listing_price_history",
        "id listing_id price_amount currency wholesale_price_amount wholesale_min_quantity changed_at"
        " changed_by",
    )
    audit = plan.audit
    sid = pid = 0
    for item in plan.listings:
        sid += 1
        status.add(f"{sid}\t{item.id}\t{NULL}\tdraft\t{ts(item.created)}\t{item.seller}\t{NULL}")
        events = sorted(item.events, key=lambda e: e[0]) + ([item.end] if item.end else [])
        for at, before, after, actor, reason in events:
            sid += 1
            status.add(
                f"{sid}\t{item.id}\t{before}\t{after}\t{ts(at)}\t{opt(actor)}\t{opt(reason and esc(reason))}"
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
                        f'{{"listing_id":{item.id}}}',
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


def write_revisions(ctx: Context, plan: Plan) -> None:
    """Changes sellers made to listings on sale (ADR 0019): a few still waiting for a moderator, more
    approved or rejected (audited), some of them new contacts."""
    rng, as_of = ctx.rng("revisions"), ctx.as_of
    moderators = plan.people.moderators
    out = ctx.table(
        "listing_revisions",
        "id listing_id changes status created_at updated_at created_by decided_at decided_by reason",
    )
    rid = 0
    for item in plan.listings:
        if item.published is None or rng.random() >= 0.06:
            continue
        pending = item.status in ("published", "reserved") and rng.random() < 0.3
        rid += 1
        at = item.published + int((as_of - item.published) * rng.random())
        approved = not pending and rng.random() < 0.8
        # an approved change is what the listing says now; the others were never shown
        title = item.title if approved else f"{item.title} {rng.choice(data.REVISION_SUFFIXES)}"
        changes: dict[str, object] = {"title": title}
        if not approved and rng.random() < 0.3:
            changes["contact_name"] = rng.choice(ctx.pools.male_first)
            changes["contact_phone"] = f"+79{rng.randrange(10**9):09d}"
        if pending:
            out.add(
                f"{rid}\t{item.id}\t{js(changes)}\tpending\t{ts(at)}\t{ts(at)}\t{item.seller}\t{NULL}\t{NULL}\t{NULL}"
            )
            continue
        decided = min(at + rng.between(10 * MINUTE, DAY), as_of)
        moderator = rng.choice(moderators)
        reason = None if approved else rng.choice(data.REVISION_REJECTIONS)
        out.add(
            f"{rid}\t{item.id}\t{js(changes)}\t{'approved' if approved else 'rejected'}\t{ts(at)}\t{ts(at)}\t"
            f"{item.seller}\t{ts(decided)}\t{moderator}\t{opt(reason and esc(reason))}"
        )
        fields = js(sorted(changes))
        plan.audit.append(
            (
                decided,
                moderator,
                "approve_edit" if approved else "reject_edit",
                item.seller,
                item.shop,
                reason,
                f'{{"listing_id":{item.id},"revision_id":{rid},"fields":{fields}}}',
            )
        )
    out.close()


def write_photos_tags_fitments(ctx: Context, plan: Plan) -> None:
    rng = ctx.rng("photos")
    photo_counts = plan.counts.photos
    photos = ctx.table("listing_photos", "listing_id position storage_key")
    for i, item in enumerate(plan.listings):
        for position in range(1, photo_counts[i] + 1):
            photos.add(f"{item.id}\t{position}\t{photo_key(item.id, position)}")
    photos.close()
    tags = ctx.table("tags", "id name created_at")
    for tid, name in enumerate(data.TAGS, start=1):
        tags.add(f"{tid}\t{name}\t{ts(ctx.start)}")
    tags.close()
    tag_ids = range(1, len(data.TAGS) + 1)
    tag_weights = list(accumulate(1 / rank for rank in tag_ids))
    listing_tags = ctx.table("listing_tags", "listing_id tag_id")
    for item in plan.listings:
        n = rng.choice((0, 0, 1, 1, 2, 3, 4))
        for tag in sorted(set(rng.choices(tag_ids, cum_weights=tag_weights, k=n))):
            listing_tags.add(f"{item.id}\t{tag}")
    listing_tags.close()
    fitments = ctx.table("part_fitments", "listing_id model_id year_from year_to added_by added_at")
    for item in plan.listings:
        if item.kind != "part" or rng.random() < 0.5:
            continue
        for m in sorted(rng.sample(ctx.catalog.models, rng.randint(1, 3)), key=lambda m: m.id):
            year_from, year_to = rng.choice(m.years)
            fitments.add(
                f"{item.id}\t{m.id}\t{year_from}\t{min(year_to, ctx.years_now)}\t{item.seller}\t"
                f"{ts(item.created)}"
            )
    fitments.close()
