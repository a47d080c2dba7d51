"""The simulated marketplace: who joined when, what they listed, bought, clicked and wrote.

`produce` plans the marketplace in memory first (listings' lives, then every order in time
order, so stock, statuses and counters follow the same rules as the api functions), then
streams every table as COPY text to a sink. Everything random comes from `random.Random`
streams seeded with the seed and a name, so the same seed, scale and as-of time give the same
bytes whatever runs first. Ids are assigned here (COPY writes identity columns as given).

The modules: `stages` (the stages in order, what each reads, fills and writes, and `produce`),
`plan` (what the planning stages decide), `context` (what every stage works with), the domains
`people`, `listings`, `descriptions`, `commerce`, `engagement` and `messaging` (their stages),
and the building blocks `inputs` (configuration and catalog), `stream` (COPY chunks), `draw`
(random streams) and `clock` (time units).
"""

from generator.world.inputs import Catalog, Category, Config, Model, Settings
from generator.world.stages import produce

__all__ = ["Catalog", "Category", "Config", "Model", "Settings", "produce"]
