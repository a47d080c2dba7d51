"""Filling the stack's templates (``patroni/…``): ``${placeholder}`` is a value, every other
character is literal, and a placeholder without a value is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from bazaar import config
from bazaar.stack.layout import ServerRoot
from bazaar.stack.patroni import Timing


def render_template(template: str, **values: object) -> str:
    """The file TEMPLATE (a path in the checkout: ``patroni/haproxy.cfg``) with its placeholders filled."""
    text = (config.project_root() / template).read_text()
    return Template(text).substitute({k: str(v) for k, v in values.items()})


@dataclass(frozen=True)
class Context:
    """What the configs of one stack are rendered from."""

    root: ServerRoot
    ports: config.Ports
    secrets: Mapping[str, str] = field(repr=False)  # user -> password
    timing: Timing
    daemon_bin: Path  # the bin/ of the venv the daemons run from (daemon_venv.py)
    server_home: str  # the home directory of the user the programs run as

    def common(self) -> dict[str, object]:
        """The placeholders any template of the stack may use."""
        return {
            "conf_dir": self.root.conf_dir,
            "run_dir": self.root.run_dir,
            "log_dir": self.root.log_dir,
            "server_root": self.root.path,
            "server_home": self.server_home,
            "stack_id": self.root.stack_id,
        }

    def render(self, template: str, **values: object) -> str:
        """TEMPLATE filled with the common placeholders and VALUES."""
        return render_template(template, **(self.common() | values))
