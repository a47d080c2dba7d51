"""bazaar: the thin Python layer around the marketplace database.

The marketplace rules live in PostgreSQL (``sql/``); this package starts the local stack,
runs migrations and calls ``api.*`` / ``ops.*`` functions. It holds no business logic.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bazaar")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
