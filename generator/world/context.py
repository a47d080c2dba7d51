"""What every stage works with besides the plan: the run's configuration and catalog, the sizes
of its scale, the Faker pools, a random stream per name and the tables to write."""

from __future__ import annotations

from generator.pools import Pools
from generator.sizes import Sizes
from generator.text import day
from generator.world.draw import Rng
from generator.world.inputs import Catalog, Config
from generator.world.stream import Send, Table, Tables


class Context:
    def __init__(self, config: Config, catalog: Catalog, send: Send) -> None:
        self.config = config
        self.catalog = catalog
        self.sizes = Sizes.at(config.scale)
        self.as_of = config.as_of
        self.start = config.start
        self.pools = Pools.draw(config.seed)
        self.years_now = int(day(config.as_of)[:4])
        self.tables = Tables(send)

    def rng(self, name: str) -> Rng:
        """The random stream of NAME: the same for the same seed, whatever other streams draw."""
        return Rng(f"{self.config.seed}:{name}")

    def table(self, name: str, columns: str, binary: bool = False) -> Table:
        """A table to write, its COLUMNS named in one string, separated by spaces."""
        return self.tables.table(name, columns.split(), binary)
