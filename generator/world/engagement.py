"""Engagement: favorites, likes and dislikes, and the contact-click log with its daily rollup, as
many per listing as its counters say."""

from __future__ import annotations

import bisect

import numpy as np

from generator import binary, data
from generator.text import ts
from generator.world.clock import DAY
from generator.world.context import Context
from generator.world.plan import Plan


def write_reactions(ctx: Context, plan: Plan) -> None:
    rng, as_of = ctx.rng("reactions"), ctx.as_of
    people, counts = plan.people, plan.counts
    traders, traders_created, created = people.traders, people.traders_created, people.created
    favorites = ctx.table("favorites", "user_id listing_id created_at")
    reactions = ctx.table("listing_reactions", "user_id listing_id reaction reacted_at")
    for i, item in enumerate(plan.listings):
        if item.published is None:
            continue
        end = item.on_sale_until(as_of)
        for n, write in ((counts.favorites[i], favorites), (counts.likes[i] + counts.dislikes[i], reactions)):
            if n == 0:
                continue
            # people who had joined by the end of its time on sale (more when too few had)
            k = min(len(traders), max(n, bisect.bisect_right(traders_created, end)))
            users = [traders[j] for j in rng.sample(range(k), n)]
            for j, user in enumerate(sorted(users)):
                since = max(item.published, created[user - 1])
                at = since + int(max(0, end - since) * rng.random())
                if write is favorites:
                    write.add(f"{user}\t{item.id}\t{ts(at)}")
                else:
                    reaction = "like" if j < counts.likes[i] else "dislike"
                    write.add(f"{user}\t{item.id}\t{reaction}\t{ts(at)}")
    favorites.close()
    reactions.close()


def write_clicks(ctx: Context, plan: Plan) -> None:
    """The contact-click log (a third of all rows) and its daily rollup, vectorised with numpy
    and sent as binary COPY (generator/binary.py). Clicks fall while the listing was on sale;
    60% are by someone signed in who had joined by then, the rest anonymous fingerprints."""
    gen = binary.generator(ctx.config.seed, "clicks")
    people = plan.people
    clicked = [(item, n) for item, n in zip(plan.listings, plan.counts.clicks, strict=True) if n]
    counts = np.array([n for _, n in clicked], dtype=np.int64)
    starts = np.array([item.published for item, _ in clicked], dtype=np.int64)
    ends = np.array([item.on_sale_until(ctx.as_of) for item, _ in clicked], dtype=np.int64)
    total = int(counts.sum())
    listing = np.repeat(np.array([item.id for item, _ in clicked], dtype=np.int64), counts)
    spans = np.repeat(np.maximum(1, ends - starts), counts)
    at = np.repeat(starts, counts) + (spans * gen.random(total)).astype(np.int64)
    traders = np.array(people.traders, dtype=np.int64)
    joined = np.searchsorted(np.array(people.traders_created, dtype=np.int64), at, side="right")
    u = gen.random(total)
    signed = (u < 0.6) & (joined > 0)
    viewer = traders[np.minimum((joined * (u / 0.6)).astype(np.int64), len(traders) - 1)]
    fingerprint = binary.hex16(gen.integers(0, 2**63, total, dtype=np.int64).astype(np.uint64))
    names = sorted(set(data.CLICK_SOURCES))
    source = np.array([names.index(s) for s in data.CLICK_SOURCES])[
        gen.integers(0, len(data.CLICK_SOURCES), total)
    ]
    micros = binary.timestamps(at)
    clicks = ctx.table("contact_clicks", "id listing_id viewer_id fingerprint source clicked_at", binary=True)
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
    daily = ctx.table("contact_clicks_daily", "listing_id day clicks", binary=True)
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
