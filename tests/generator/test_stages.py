"""The stage table of generator/world/stages.py says what each stage reads, fills and writes: these
tests hold the table to the order it runs in and the stages to the table."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from generator.load import marketplace_tables, read_catalog
from generator.world import Catalog, Config
from generator.world.context import Context
from generator.world.plan import Plan
from generator.world.stages import STAGES
from generator.world.stream import Table
from tests.generator.test_generate import migrated
from tests.harness import ServerUnderTest

PARTS = {f.name for f in dataclasses.fields(Plan)}


@pytest.fixture(scope="module")
def catalog_and_tables(server: ServerUnderTest) -> Iterator[tuple[Catalog, list[str]]]:
    with migrated(server) as (_dsn, conn):
        yield read_catalog(conn), marketplace_tables(conn)


def test_every_part_is_read_after_the_stages_that_fill_it() -> None:
    for i, stage in enumerate(STAGES):
        assert set(stage.reads) | set(stage.fills) <= PARTS, stage.name
        for part in stage.reads:
            fillers = [j for j, other in enumerate(STAGES) if part in other.fills]
            assert any(j < i for j in fillers), f"{stage.name} reads {part} before any stage fills it"
            if part not in stage.fills:
                assert all(j < i for j in fillers), f"{stage.name} reads {part} before it is complete"
    assert {part for stage in STAGES for part in stage.fills} == PARTS


def test_every_table_is_written_by_one_stage(catalog_and_tables: tuple[Catalog, list[str]]) -> None:
    written = [table for stage in STAGES for table in stage.writes]
    assert len(written) == len(set(written))
    # listing_texts is the loader's: the search vectors are computed from it; the loader derives
    # listing_cards from the loaded tables
    assert {*written, "listing_cards"} == {*catalog_and_tables[1], "listing_texts"}


def test_every_stage_reads_fills_and_writes_what_the_table_says(
    catalog_and_tables: tuple[Catalog, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, _ = catalog_and_tables
    current = [""]
    got: dict[str, set[str]] = defaultdict(set)
    put: dict[str, set[str]] = defaultdict(set)
    tables: dict[str, list[str]] = defaultdict(list)

    class Traced(Plan):
        def __getattribute__(self, name: str) -> Any:
            if name in PARTS:
                got[current[0]].add(name)
            return super().__getattribute__(name)

        def __setattr__(self, name: str, value: Any) -> None:
            put[current[0]].add(name)
            super().__setattr__(name, value)

    config = Config(scale=0.002, seed=3, as_of=1_780_000_000, months=12, password_hash="x")
    context, plan = Context(config, catalog, lambda _message: None), Traced()
    opened = context.table

    def table(name: str, columns: str, binary: bool = False) -> Table:
        tables[current[0]].append(name)
        return opened(name, columns, binary)

    monkeypatch.setattr(context, "table", table)
    for stage in STAGES:
        current[0] = stage.name
        stage.run(context, plan)
        assert got[stage.name] <= {*stage.reads, *stage.fills}, stage.name
        assert put[stage.name] <= set(stage.fills), stage.name
        assert set(stage.reads) <= got[stage.name], f"{stage.name} does not read all it says"
        assert set(stage.fills) <= got[stage.name] | put[stage.name], (
            f"{stage.name} does not fill all it says"
        )
        assert tuple(tables[stage.name]) == stage.writes, stage.name


def test_a_stage_out_of_order_fails_on_what_is_missing(
    catalog_and_tables: tuple[Catalog, list[str]],
) -> None:
    # a part no stage has filled yet is missing, not an empty default the stage would run on
    config = Config(scale=0.002, seed=3, as_of=1_780_000_000, months=12, password_hash="x")
    context = Context(config, catalog_and_tables[0], lambda _message: None)
    shops = next(stage for stage in STAGES if stage.name == "shops")
    with pytest.raises(AttributeError, match="people"):
        shops.run(context, Plan())
