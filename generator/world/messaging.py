"""Messaging: the chat under each listing, ad campaigns, Telegram channels and their posts, and
the notification outbox every other stage has added to."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator import data
from generator.text import NULL, js, opt, ts, ts_opt
from generator.world.clock import DAY, HOUR, MINUTE
from generator.world.context import Context
from generator.world.listings import photo_key
from generator.world.plan import Plan


def write_chat(ctx: Context, plan: Plan) -> None:
    """As many messages under each listing as its counter says: buyers ask, the seller answers."""
    rng, as_of = ctx.rng("chat"), ctx.as_of
    people, chats = plan.people, plan.counts.chats
    out = ctx.table("chat_messages", "id listing_id author_id body created_at deleted_at deleted_by")
    mid = 0
    for i, item in enumerate(plan.listings):
        n = chats[i]
        if n == 0:
            continue
        assert item.published is not None
        start, end = item.published, item.on_sale_until(as_of)
        moments = sorted(start + int(max(1, end - start) * rng.random()) for _ in range(n))
        asker = people.person_before(rng, start, exclude=item.seller) or people.person_before(
            rng, end, exclude=item.seller
        )
        for j, at in enumerate(moments):
            mid += 1
            seller_turn = j % 2 == 1
            if not seller_turn and rng.random() < 0.3:
                asker = people.person_before(rng, at, exclude=item.seller) or asker
            author = item.seller if seller_turn or asker is None else asker
            body = rng.choice(data.CHAT_ANSWERS if author == item.seller else data.CHAT_QUESTIONS)
            deleted = at + rng.between(MINUTE, HOUR) if rng.random() < 0.01 else None
            if deleted is not None and deleted > as_of:
                deleted = None
            out.add(
                f"{mid}\t{item.id}\t{author}\t{body}\t{ts(at)}\t{ts_opt(deleted)}\t"
                f"{author if deleted else NULL}"
            )
    out.close()


def write_campaigns_and_channels(ctx: Context, plan: Plan) -> None:
    """Ad campaigns, Telegram channels and a post in every channel a published listing matches
    (queued in the outbox at publication); admins' creations go to the audit log. One random
    stream for both, campaigns first."""
    rng, as_of, start = ctx.rng("channels"), ctx.as_of, ctx.start
    admins, audit, outbox, photos = plan.people.admins, plan.audit, plan.outbox, plan.counts.photos
    catalog = ctx.catalog
    campaigns = ctx.table("ad_campaigns", "id category_id title body starts_at ends_at created_by created_at")
    for cid in range(1, ctx.sizes.ad_campaigns + 1):
        category = rng.choice(catalog.categories)
        starts = start + int((as_of - start) * rng.random())
        admin = rng.choice(admins)
        brand = rng.choice(data.PART_BRANDS + data.TYRE_BRANDS)
        campaigns.add(
            f"{cid}\t{category.id}\t{brand}: скидки до 20%\tТолько в этом месяце\t{ts(starts)}\t"
            f"{ts(starts + rng.choice((7, 14, 30)) * DAY)}\t{admin}\t{ts(starts)}"
        )
        audit.append((starts, admin, "create_ad_campaign", None, None, None, f'{{"campaign_id":{cid}}}'))
    campaigns.close()
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
    channels = ctx.table(
        "telegram_channels", "id name telegram_chat_id region category_id active created_by created_at"
    )
    matchers: list[tuple[int, int, str | None, int | None]] = []
    for chid, (name, region, slug) in enumerate(specs, start=1):
        at = start + rng.between(DAY, 30 * DAY)
        admin = rng.choice(admins)
        category_id = catalog.by_slug(slug).id if slug else None
        channels.add(
            f"{chid}\t{name}\t{-1_001_000_000_000 - chid}\t{opt(region)}\t{opt(category_id)}\t"
            f"t\t{admin}\t{ts(at)}"
        )
        audit.append((at, admin, "create_channel", None, None, None, f'{{"channel_id":{chid}}}'))
        matchers.append((chid, at, region, category_id))
    channels.close()
    posts = ctx.table(
        "channel_posts",
        "id channel_id listing_id telegram_message_id snapshot queued_snapshot created_at delivered_at",
    )
    pid = 0
    for i, item in enumerate(plan.listings):
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
                        "photos": [photo_key(item.id, n) for n in range(1, photos[i] + 1)],
                        "status": status,
                    }
                )
            delivered = item.published + rng.between(5, 600)
            pending = delivered > as_of
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
                        "photos": [photo_key(item.id, n) for n in range(1, photos[i] + 1)],
                        "status": "on_sale",
                    }
                )
            payload = (
                f'{{"post_id":{pid},"channel_id":{chid},"listing_id":{item.id},"snapshot":{first},'
                '"marked_sold":false}'
            )
            outbox.append((item.published, -pid, "channel_post", payload))
    posts.close()


CHANNELS = ("telegram", "email", "sms")  # core.notification_channel


@dataclass
class Counted:
    """One channel's delivery metrics (a row of core.outbox_delivery_stats)."""

    delivered: int = 0
    dead: int = 0
    seconds: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * 10)


def write_notifications(ctx: Context, plan: Plan) -> None:
    """The outbox: one row per event and preferred channel (core.notify), channel posts to their chat;
    old ones delivered, a few set aside as failed, the latest still waiting."""
    rng, as_of = ctx.rng("notifications"), ctx.as_of
    max_attempts = ctx.catalog.settings.outbox_max_attempts
    people = plan.people
    out = ctx.table(
        "notifications",
        "id user_id channel_post_id channel kind payload created_at attempts delivered_at failed_at",
    )
    # the delivery metrics the reports counted (core.count_delivery): per channel, in shard 0
    bounds = (1, 2.5, 5, 10, 30, 60, 300, 900, 3600)  # core.outbox_latency_bounds()
    stats = {c: Counted() for c in CHANNELS}
    nid = 0
    for at, target, kind, payload in sorted(plan.outbox, key=lambda n: (n[0], n[1])):
        if target < 0:
            targets = [(NULL, str(-target), "telegram")]
        elif people.blocked[target]:
            continue
        else:
            targets = [(str(target), NULL, channel) for channel in people.channels[target]]
        for user, post, channel in targets:
            nid += 1
            attempts, delivered, failed = 1, NULL, NULL
            delay = rng.between(1, 120)
            if at + delay > as_of:
                attempts = 0  # still waiting for a worker
            elif rng.random() < 0.003 and at + HOUR <= as_of:
                attempts, failed = max_attempts, ts(at + HOUR)  # set aside by core.claim_outbox
                stats[channel].dead += 1
            else:
                delivered = ts(at + delay)
                counted = stats[channel]
                counted.delivered += 1
                counted.seconds += delay
                counted.buckets[sum(1 for b in bounds if b < delay)] += 1
            out.add(
                f"{nid}\t{user}\t{post}\t{channel}\t{kind}\t{payload}\t{ts(at)}\t{attempts}\t{delivered}\t{failed}"
            )
    out.close()
    counters = ctx.table(
        "outbox_delivery_stats", "channel shard delivered retried dead latency_seconds_sum latency_buckets"
    )
    for channel, counted in stats.items():
        buckets = ",".join(str(n) for n in counted.buckets)
        counters.add(
            f"{channel}\t0\t{counted.delivered}\t0\t{counted.dead}\t{counted.seconds}\t{{{buckets}}}"
        )
    counters.close()
