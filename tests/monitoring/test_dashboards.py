"""The dashboards' JSON is what bazaar/monitoring/dashboards.py generates, and is what Grafana needs:
unique ids and uids, data sources by variable, known panel types, panels inside the grid and not
overlapping, every variable a query uses defined, provisioning that names the same uids and path.
(That each panel shows data: tests/cluster/test_dashboards.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from bazaar.monitoring import dashboards
from tests.harness import REPO

GRAFANA = REPO / "monitoring" / "grafana"
BUILTINS = {"__rate_interval", "__range", "__interval", "__timeFilter", "__all"}


def load() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((GRAFANA / "dashboards").glob("*.json"))]


def test_the_committed_json_is_what_the_source_generates() -> None:
    assert dashboards.main(["--check"]) == 0, "run: python -m bazaar.monitoring.dashboards"
    names = {p.name for p in (GRAFANA / "dashboards").glob("*.json")}
    assert names == {f"{d.uid}.json" for d in dashboards.DASHBOARDS}  # no leftover file


def test_ids_uids_types_and_data_sources_are_what_grafana_needs() -> None:
    boards = load()
    assert len({b["uid"] for b in boards}) == len(boards)
    assert all(re.fullmatch(r"[a-z0-9-]{1,40}", b["uid"]) for b in boards)
    for board in boards:
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), board["title"]
        variables = {v["name"]: v for v in board["templating"]["list"]}
        for panel in board["panels"]:
            assert panel["type"] in dashboards.PANEL_TYPES, panel["title"]
            if panel["type"] == "row":
                continue
            assert panel["targets"], panel["title"]
            for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
                # never a hard-coded uid: a ${variable} of type datasource for that plugin
                name = re.fullmatch(r"\$\{(\w+)\}", source["uid"])
                assert name and variables[name[1]]["type"] == "datasource", panel["title"]
                assert variables[name[1]]["query"] == source["type"], panel["title"]
            refs = [t["refId"] for t in panel["targets"]]
            assert len(refs) == len(set(refs)), panel["title"]


def test_panels_lie_inside_the_grid_without_overlapping() -> None:
    for board in load():
        taken: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= dashboards.WIDTH, panel["title"]
            cells = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])}
            assert not cells & taken, f"{board['title']} / {panel['title']} overlaps"
            taken |= cells


def test_every_variable_a_query_uses_is_defined_and_no_instance_is_hard_coded() -> None:
    for board in load():
        defined = {v["name"] for v in board["templating"]["list"]} | BUILTINS
        texts = [v.get("definition", "") for v in board["templating"]["list"]]
        texts += [t.get("expr") or t.get("rawSql") for p in board["panels"] for t in p.get("targets", [])]
        for text in texts:
            used = set(re.findall(r"\$\{?(\w+)", text))
            assert used <= defined, f"{board['title']}: {used - defined} in {text}"
            assert "instance=" not in text and "127.0.0.1" not in text, text
        for target in (t for p in board["panels"] for t in p.get("targets", []) if "expr" in t):
            assert 'cluster="$cluster"' in target["expr"], target["expr"]  # every series of the cluster


@pytest.mark.parametrize("source", ["datasources", "dashboards"])
def test_provisioning_names_the_dashboards_uids_and_path(source: str) -> None:
    provisioning: dict[str, Any] = yaml.safe_load(
        (GRAFANA / "provisioning" / source / "bazaar.yml").read_text()
    )
    if source == "datasources":
        uids = {d["uid"]: d["type"] for d in provisioning["datasources"]}
        assert uids == {
            dashboards.PROMETHEUS_UID: "prometheus",
            dashboards.ANALYTICS_UID: dashboards.ANALYTICS["type"],
        }
        analytics = next(d for d in provisioning["datasources"] if d["uid"] == dashboards.ANALYTICS_UID)
        assert analytics["user"] == "bazaar_analyst" and analytics["secureJsonData"]["password"].startswith(
            "${"
        )
    else:
        path = provisioning["providers"][0]["options"]["path"]
        compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
        mounts = compose["services"]["grafana"]["volumes"]
        assert f"./monitoring/grafana/dashboards:{path}:ro" in mounts
        assert Path(REPO / "monitoring/grafana/dashboards").is_dir()
