"""Every panel of every Grafana dashboard shows data on the live stack, with no Grafana running:
bazaar/monitoring/prove.py runs each panel's PromQL through Prometheus's HTTP API and each SQL
panel as bazaar_analyst on a replica, with the dashboards' variables resolved as Grafana does. A
panel that would show nothing fails here. (What Grafana needs of the JSON itself:
tests/monitoring/test_dashboards.py.)"""

from __future__ import annotations

import contextlib

from bazaar.errors import BazaarError
from bazaar.monitoring import prove
from bazaar.stack.processes import poll
from tests.cluster.conftest import StackUnderTest


def test_every_panel_of_every_dashboard_shows_data(stack: StackUnderTest) -> None:
    # a marketplace with some history (listings, orders, clicks, reviews, the outbox) …
    generated = stack.bazaar_json("generate", "--scale", "0.002", "--seed", "11", "--truncate")
    assert generated["generated"] is True
    # … and an application's traffic through PgBouncer: api calls and pooled transactions
    with stack.connect(stack.local.dsn()) as app:
        for _ in range(10):
            assert app.execute("select * from api.categories()").fetchall()

    prometheus = f"http://127.0.0.1:{stack.local.ports.prometheus}"
    analyst = stack.local.read_only_dsn("bazaar_analyst")
    prover = prove.Prover(prove.Prometheus(prometheus), analyst)
    # rates need two scrapes (15 s apart) after the load; the exporters' first scrapes may predate it
    with contextlib.suppress(BazaarError):
        poll(lambda: not prover.everything(), 120, "every panel showing data")
    assert [str(p) for p in prover.everything()] == []
    # the operators' command says the same
    assert prove.main(["--prometheus", prometheus, "--analytics", analyst]) == 0


def test_a_panel_that_shows_nothing_is_named(stack: StackUnderTest) -> None:
    """The proof can fail: a panel over a metric nobody exports, and an empty SQL result, are named."""
    prover = prove.Prover(
        prove.Prometheus(f"http://127.0.0.1:{stack.local.ports.prometheus}"),
        stack.local.read_only_dsn("bazaar_analyst"),
    )
    board = {
        "title": "probe",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": []},
        "panels": [
            {"title": "gone", "targets": [{"refId": "A", "expr": 'bazaar_no_such_metric{cluster="bazaar"}'}]},
            {
                "title": "empty",
                "targets": [
                    {
                        "refId": "A",
                        "rawSql": "select day from analytics.orders_daily where $__timeFilter(day) and false",
                        "format": "table",
                    }
                ],
            },
            {
                "title": "refused",
                "targets": [{"refId": "A", "rawSql": "select 1 from core.users", "format": "table"}],
            },
        ],
    }
    problems = {p.panel: p.what for p in prover.dashboard(board)}
    assert problems["gone"].startswith("no series")
    assert problems["empty"].startswith("no rows")
    assert "permission denied" in problems["refused"]  # analysts read analytics.*, never core
