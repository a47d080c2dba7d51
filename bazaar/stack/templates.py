"""Filling the stack's templates (``patroni/…``): ``${placeholder}`` is a value, every other
character is literal, and a placeholder without a value is an error.
"""

from __future__ import annotations

from string import Template

from bazaar import config


def render_template(template: str, **values: object) -> str:
    """The file TEMPLATE (a path in the checkout: ``patroni/haproxy.cfg``) with its placeholders filled."""
    text = (config.project_root() / template).read_text()
    return Template(text).substitute({k: str(v) for k, v in values.items()})
