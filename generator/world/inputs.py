"""What a world is made from: the run's configuration and the reference data the database being
loaded already holds (the shipped catalog)."""

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
class Catalog:
    """The shipped reference data (V0004), read from the database being loaded."""

    categories: tuple[Category, ...]
    models: tuple[Model, ...]

    def by_slug(self, slug: str) -> Category:
        return next(c for c in self.categories if c.slug == slug)
