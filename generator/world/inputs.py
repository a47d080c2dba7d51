"""What a world is made from: the run's configuration and what the database being loaded
already holds (the shipped catalog, the marketplace's settings)."""

from __future__ import annotations

from dataclasses import dataclass

from generator.world.clock import DAY


@dataclass(frozen=True)
class Config:
    scale: float
    seed: int
    as_of: int  # seconds since the epoch, UTC: nothing happens after it
    months: int  # the history before as_of
    password_hash: str  # every generated user's (bcrypt)

    @property
    def start(self) -> int:
        """When the history begins: MONTHS average months before as_of."""
        return self.as_of - round(self.months * 30.44 * DAY)


@dataclass(frozen=True)
class Category:
    id: int
    slug: str
    kind: str
    lifetime: int  # seconds
    path: tuple[int, ...]


@dataclass(frozen=True)
class Model:
    id: int
    make: str
    name: str
    years: tuple[tuple[int, int], ...]  # production years of each generation


@dataclass(frozen=True)
class Settings:
    """The core.settings the generated history follows, read from the database being loaded as
    the api functions read them (core.setting_interval, core.setting_int): the history obeys the
    rules the marketplace it is loaded into has, not a copy of their defaults."""

    reservation_lifetime: int  # seconds an order holds its units unpaid
    session_lifetime: int  # seconds a session is valid
    sign_in_code_lifetime: int  # seconds a sign-in code is valid
    sign_in_code_max_attempts: int  # wrong entries a code tolerates
    outbox_max_attempts: int  # deliveries tried before a notification is set aside as failed
    telegram_link_lifetime: int  # seconds a link to connect Telegram is valid


@dataclass(frozen=True)
class Catalog:
    """The shipped reference data (V0004) and the settings, read from the database being loaded."""

    categories: tuple[Category, ...]
    models: tuple[Model, ...]
    settings: Settings

    def by_slug(self, slug: str) -> Category:
        return next(c for c in self.categories if c.slug == slug)
