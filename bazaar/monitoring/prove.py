"""Prove the dashboards show data, without a Grafana: run every query of every panel of
monitoring/grafana/dashboards/*.json the way Grafana would, and name each one that comes back empty.

- Variables are resolved as Grafana resolves them, in order: `label_values(SELECTOR, LABEL)`
  through Prometheus's label API (a variable with no value is itself a failure), custom lists as
  they are; "All" of a multi-value variable is the regex of every value (PromQL) or the quoted
  list (SQL).
- PromQL runs as a range query over the last ten minutes (`$__rate_interval` is 1m, the one
  Grafana computes for a 15 s scrape; `$__range` is the dashboard's default range): at least
  one series must come back. Recording rules of the rule files are run the same way.
- SQL runs on PostgreSQL as the analytics data source's user (bazaar_analyst on a replica) with
  `$__timeFilter(col)` over the dashboard's default range: at least one row must come back, and a
  time series must have a "time" column.

    python -m bazaar.monitoring.prove --prometheus http://127.0.0.1:9090 \\
        --analytics "$(bazaar dsn --read-only | sed s/bazaar_app/bazaar_analyst/)"
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml  # type: ignore[import-untyped]
from psycopg.sql import SQL

from bazaar import config

RATE_INTERVAL = "1m"  # Grafana's $__rate_interval for a 15 s scrape interval: 4 x 15 s
WINDOW = 600  # seconds of history a range query covers
STEP = 15
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def dashboard_files() -> list[Path]:
    return sorted((config.project_root() / "monitoring" / "grafana" / "dashboards").glob("*.json"))


def rule_files() -> list[Path]:
    return sorted((config.project_root() / "monitoring" / "prometheus" / "rules").glob("*.yml"))


def seconds(span: str) -> int:
    """'6h' -> 21600 (Grafana's relative ranges and Prometheus's durations)."""
    match = re.fullmatch(r"(\d+)([smhdw])", span)
    if not match:
        raise ValueError(f"not a duration: {span!r}")
    return int(match[1]) * UNITS[match[2]]


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def get(self, path: str, params: list[tuple[str, str]]) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (an operator's URL)
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body}")
        return body["data"]

    def series(self, expr: str) -> list[Any]:
        end = time.time()
        params = [("query", expr), ("start", str(end - WINDOW)), ("end", str(end)), ("step", str(STEP))]
        result: list[Any] = self.get("query_range", params)["result"]
        return result

    def label_values(self, selector: str, label: str, span: int) -> list[str]:
        end = time.time()
        params = [("match[]", selector), ("start", str(end - span)), ("end", str(end))]
        values: list[str] = self.get(f"label/{label}/values", params)
        return values


@dataclass(frozen=True)
class Value:
    """A variable's values: one, or several ("All" of a multi-value variable)."""

    values: tuple[str, ...]
    multi: bool

    def promql(self) -> str:
        if not self.multi:
            return self.values[0]
        return "(" + "|".join(re.escape(v) for v in self.values) + ")"

    def sql(self) -> str:
        quoted = ("'" + v.replace("'", "''") + "'" for v in self.values)
        return ",".join(quoted) if self.multi else self.values[0]


def substitute(text: str, values: dict[str, Value], sql: bool) -> str:
    # longest names first: $node must not eat the start of $nodes
    for name in sorted(values, key=len, reverse=True):
        value = values[name]
        rendered = value.sql() if sql else value.promql()
        text = text.replace("${" + name + "}", rendered).replace("$" + name, rendered)
    return text


def sql_text(raw: str, values: dict[str, Value], start: datetime, end: datetime) -> str:
    """An SQL panel's query as Grafana sends it: $__timeFilter(col) over START..END, variables."""
    between = rf"\1 between '{start.isoformat()}' and '{end.isoformat()}'"
    return substitute(re.sub(r"\$__timeFilter\((\w+)\)", between, raw), values, sql=True)


@dataclass(frozen=True)
class Problem:
    dashboard: str
    panel: str
    ref: str
    what: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}: {self.what}"


class Prover:
    def __init__(self, prometheus: Prometheus, analytics_dsn: str) -> None:
        self.prometheus = prometheus
        self.analytics_dsn = analytics_dsn

    def variables(self, dashboard: dict[str, Any], span: int) -> tuple[dict[str, Value], list[Problem]]:
        values: dict[str, Value] = {}
        problems = []
        for variable in dashboard["templating"]["list"]:
            name, kind = variable["name"], variable["type"]
            multi = bool(variable.get("multi") or variable.get("includeAll"))
            found: list[str] = []
            if kind == "datasource":
                continue  # data sources by uid: the one provisioned
            if kind == "custom":
                found = [v.strip() for v in variable["query"].split(",") if v.strip()]
            elif kind == "query":
                match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", variable["definition"])
                if not match:
                    problems.append(Problem(dashboard["title"], "variables", name, "not label_values(…)"))
                    continue
                selector = substitute(match[1], values, sql=False)
                found = self.prometheus.label_values(selector, match[2], span)
            if not found:
                problems.append(Problem(dashboard["title"], "variables", name, "no value"))
                continue
            values[name] = Value(tuple(sorted(found)), multi)
        return values, problems

    def dashboard(self, dashboard: dict[str, Any]) -> Iterator[Problem]:
        span = seconds(dashboard["time"]["from"].removeprefix("now-"))
        values, problems = self.variables(dashboard, span)
        yield from problems
        end = datetime.now(UTC)
        start = end - timedelta(seconds=span)
        macros = {"$__rate_interval": RATE_INTERVAL, "$__range": f"{span}s", "$__interval": f"{STEP}s"}
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                where = (dashboard["title"], panel["title"], target["refId"])
                if "expr" in target:
                    expr = target["expr"]
                    for macro, value in macros.items():
                        expr = expr.replace(macro, value)
                    what = self.promql(substitute(expr, values, sql=False))
                else:
                    what = self.sql(sql_text(target["rawSql"], values, start, end), target["format"])
                if what:
                    yield Problem(*where, what)

    def promql(self, expr: str) -> str | None:
        try:
            series = self.prometheus.series(expr)
        except (RuntimeError, OSError) as exc:
            return f"error: {exc} in {expr}"
        return None if series else f"no series: {expr}"

    def sql(self, sql: str, form: str) -> str | None:
        try:
            with psycopg.connect(self.analytics_dsn, autocommit=True, connect_timeout=10) as conn:
                # the dashboard's own text, as Grafana sends it: not a query built from input
                cursor = conn.execute(SQL(sql))
                rows = cursor.fetchall()
                columns = [c.name for c in cursor.description or ()]
        except psycopg.Error as exc:
            return f"error: {str(exc).strip()} in {sql}"
        if not rows:
            return f"no rows: {sql}"
        if form == "time_series" and "time" not in columns:
            return f"a time series without a time column: {sql}"
        return None

    def rules(self) -> Iterator[Problem]:
        for path in rule_files():
            for group in yaml.safe_load(path.read_text())["groups"]:
                for rule in group["rules"]:
                    if "record" in rule and (what := self.promql(rule["expr"])):
                        yield Problem(path.name, group["name"], rule["record"], what)

    def everything(self) -> list[Problem]:
        problems = list(self.rules())
        for path in dashboard_files():
            problems.extend(self.dashboard(json.loads(path.read_text())))
        return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bazaar.monitoring.prove", description=__doc__)
    parser.add_argument("--prometheus", required=True, help="Prometheus's URL")
    parser.add_argument("--analytics", required=True, help="DSN of the analytics data source's user")
    args = parser.parse_args(argv)
    problems = Prover(Prometheus(args.prometheus), args.analytics).everything()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} panel queries show nothing" if problems else "every panel query shows data")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
