"""What a listing says: its title, description, attributes, price and stock, by kind and category
(cars from the catalog with years of their generations and prices depreciating from their make's;
parts with numbers, brands and sizes; made-to-order services)."""

from __future__ import annotations

from generator import data
from generator.text import esc, opt
from generator.world.context import Context
from generator.world.draw import Rng
from generator.world.inputs import Model
from generator.world.plan import Listing, Plan


def describe_listings(ctx: Context, plan: Plan) -> None:
    """Titles, descriptions, attributes, prices; the texts search reads are sent at once (table
    listing_texts, not a marketplace table): PostgreSQL computes the search vectors from them
    while the listings' lives and orders are simulated here (ADR 0010)."""
    rng = ctx.rng("describe")
    models = {m.id: m for m in ctx.catalog.models}
    texts = ctx.table("listing_texts", "id title description brand model_id part_number")
    for item in plan.listings:
        describe(ctx, rng, models, item)
        number = item.attributes.get("part_number")
        texts.add(
            f"{item.id}\t{esc(item.title)}\t{esc(item.description)}\t{opt(item.brand)}\t{opt(item.model)}\t"
            f"{opt(number)}"
        )
    texts.close()


def describe(ctx: Context, rng: Rng, models: dict[int, Model], item: Listing) -> None:
    """Title, brand, attributes, price and stock by kind and category."""
    notes: tuple[str, ...]
    if item.kind == "car":
        assert item.model is not None
        m = models[item.model]
        year_from, year_to = rng.choice(m.years)
        year = rng.randint(year_from, min(year_to, ctx.years_now))
        age = max(0, ctx.years_now - year)
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
            fits = rng.choice(ctx.catalog.models)
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
    item.description = f"{first} {second} {rng.choice(ctx.pools.sentences)}"
