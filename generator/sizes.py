"""How many of each thing a scale factor makes (README → Data generator has the table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# At --scale 1. Every count scales linearly; the floors keep tiny scales meaningful.
BASE: dict[str, int] = {
    "users": 100_000,
    "shops": 5_000,
    "listings": 1_000_000,
    "contact_clicks": 10_000_000,
    "chat_messages": 2_000_000,
    "orders": 300_000,
    "favorites": 1_500_000,
    "reactions": 1_000_000,
    "declared_deals": 20_000,
    "saved_searches": 30_000,
    "sessions": 50_000,
    "cart_items": 20_000,
    "platform_reviews": 5_000,
    "sign_in_failures": 5_000,
    "sign_in_codes": 3_000,
    "password_reset_codes": 1_000,
    "telegram_link_tokens": 1_000,
    "ad_campaigns": 60,
    "moderators": 50,
    "admins": 5,
}
FLOOR: dict[str, int] = {
    "users": 60,
    "shops": 3,
    "listings": 200,
    "orders": 20,
    "ad_campaigns": 2,
    "moderators": 2,
    "admins": 1,
}


@dataclass(frozen=True)
class Sizes:
    users: int
    shops: int
    listings: int
    contact_clicks: int
    chat_messages: int
    orders: int
    favorites: int
    reactions: int
    declared_deals: int
    saved_searches: int
    sessions: int
    cart_items: int
    platform_reviews: int
    sign_in_failures: int
    sign_in_codes: int
    password_reset_codes: int
    telegram_link_tokens: int
    ad_campaigns: int
    moderators: int
    admins: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        if not scale > 0:
            raise ValueError("the scale must be greater than 0")
        counts = {name: max(FLOOR.get(name, 1), round(base * scale)) for name, base in BASE.items()}
        return cls(**counts)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
