"""Random draws: every stream is an Rng seeded with the seed and a name, so the same seed gives
the same draws whatever runs first, and adding a stream does not change the others."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")


class Rng(random.Random):
    """random.Random, with integers drawn by scaling random() instead of rejection sampling on
    getrandbits: 4x faster choice/randrange/sample (every draw of the generator goes through
    here), equally deterministic; the bias (below 2**-40 for our ranges) does not matter for data."""

    def _randbelow(self, n: int) -> int:
        return int(self.random() * n)

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def between(self, low: int, high: int) -> int:
        """An integer in [LOW, HIGH): randrange without its argument checks."""
        return low + int(self.random() * (high - low))

    def two(self, seq: Sequence[T]) -> tuple[T, T]:
        """Two different items (sample(seq, 2) without its type checks)."""
        n = len(seq)
        i = int(self.random() * n)
        return seq[i], seq[(i + 1 + int(self.random() * (n - 1))) % n]


def spread(rng: Rng, weights: Sequence[float], total: int, cap: int | None = None) -> list[int]:
    """Split TOTAL over items in proportion to WEIGHTS, rounding stochastically (O(items))."""
    scale = total / (sum(weights) or 1.0)
    counts = []
    for w in weights:
        expected = w * scale
        n = int(expected)
        if rng.random() < expected - n:
            n += 1
        counts.append(n if cap is None else min(n, cap))
    return counts
