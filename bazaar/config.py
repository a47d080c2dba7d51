"""Where things are: the project's SQL, the local stack's state directory, and its ports.

Environment:
  BAZAAR_HOME          state of the local stack (default: <checkout>/var)
  BAZAAR_PORT_OFFSET   added to every default port, so two stacks run side by side (default 0)
  BAZAAR_SQL_DIR       the SQL tree to migrate from (default: <checkout>/sql)
  BAZAAR_DSN           application DSN (default: the local stack's)
  BAZAAR_ADMIN_DSN     admin DSN for migrations and ops (default: the local stack's)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bazaar.errors import EXIT_BAD_ARGUMENT, BazaarError

DATABASE = "bazaar"
# DESIGN.md → Local stack: default ports, each moved by BAZAAR_PORT_OFFSET.
POSTGRES_BASE_PORT = 5433


def project_root() -> Path:
    """The checkout bazaar runs from (an editable install), else the working directory."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def home() -> Path:
    value = os.environ.get("BAZAAR_HOME")
    return Path(value).resolve() if value else project_root() / "var"


def sql_dir() -> Path:
    value = os.environ.get("BAZAAR_SQL_DIR")
    return Path(value).resolve() if value else project_root() / "sql"


def port_offset() -> int:
    raw = os.environ.get("BAZAAR_PORT_OFFSET", "0")
    try:
        offset = int(raw)
    except ValueError:
        raise BazaarError(
            f"BAZAAR_PORT_OFFSET must be an integer, not {raw!r}", exit_code=EXIT_BAD_ARGUMENT
        ) from None
    if not 0 <= offset <= 50000:
        raise BazaarError(
            f"BAZAAR_PORT_OFFSET must be between 0 and 50000, not {offset}", exit_code=EXIT_BAD_ARGUMENT
        )
    return offset


@dataclass(frozen=True)
class Ports:
    offset: int = 0

    def postgres(self, node: int) -> int:
        """PostgreSQL port of node 1, 2, 3 (5433 to 5435 by default)."""
        return POSTGRES_BASE_PORT + node - 1 + self.offset
