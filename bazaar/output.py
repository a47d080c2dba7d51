"""One renderer for every command's output: an aligned table for people, JSON for programs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S%z")
    return str(value)


def print_output(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    """Print ROWS (mappings keyed by COLUMNS) as a table, or as a JSON array of objects."""
    if as_json:
        click.echo(json.dumps([{c: _plain(r.get(c)) for c in columns} for r in rows], indent=2))
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def print_object(obj: Mapping[str, Any], as_json: bool) -> None:
    """Print one record: ``key: value`` lines, or a JSON object."""
    if as_json:
        click.echo(json.dumps({k: _plain(v) for k, v in obj.items()}, indent=2))
        return
    width = max((len(k) for k in obj), default=0)
    for key, value in obj.items():
        click.echo(f"{key.ljust(width)}  {_cell(value)}")


def money(amount: int | None, currency: str | None) -> str:
    """Minor units as a person reads them: 150000 RUB -> '1 500.00 RUB'."""
    if amount is None:
        return ""
    units, cents = divmod(amount, 100)
    return f"{units:,}.{cents:02d} {currency or ''}".replace(",", " ").strip()


def minor_units(text: str) -> int:
    """'1500', '1 500.5' or '1500,50' (major units) -> minor units; ValueError otherwise."""
    try:
        value = Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{text!r} has more than two decimals")
    return int(value * 100)
