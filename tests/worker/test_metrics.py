"""Delivery metrics end to end: what workers deliver, retry and set aside through the stand-in is
what the marketplace exporter serves, per channel, with the queued-to-delivered histogram."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bazaar.monitoring.exporter import MarketplaceCollector
from bazaar.worker.loop import Counts
from bazaar.worker.senders import SmsSender, TelegramSender
from tests.worker.conftest import BOT_TOKEN, SMS_KEY, Database, StandIn
from tests.worker.test_delivery import notify, person, worker


def scraped(db: Database) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(MarketplaceCollector(db.admin_dsn, db.admin_dsn))
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_exporter_serves_what_the_workers_did(outbox: Database, standin: StandIn) -> None:
    before = scraped(outbox)
    people = [person(outbox, ["telegram", "sms"]) for _ in range(3)]
    standin.script(people[0]["phone"], (400, {"error": "no such number"}))
    standin.script(people[1]["phone"], (503, {"error": "busy"}))
    for user in people:
        notify(outbox, user, "order_paid", {"order_id": 9})
    senders = (TelegramSender(standin.url, BOT_TOKEN), SmsSender(f"{standin.url}/send", SMS_KEY))
    assert worker(outbox, *senders).run(until_idle=True) == Counts(delivered=4, retried=1, dead=1)
    after = scraped(outbox)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("bazaar_outbox_delivered_total", channel="telegram") == 3
    assert grew("bazaar_outbox_delivered_total", channel="sms") == 1
    assert grew("bazaar_outbox_retried_total", channel="sms") == 1
    assert grew("bazaar_outbox_dead_total", channel="sms") == 1
    assert grew("bazaar_outbox_delivery_seconds_count", channel="telegram") == 3
    # delivered within a minute of being queued: every one of them in the le=60 bucket
    assert grew("bazaar_outbox_delivery_seconds_bucket", channel="telegram", le="60.0") == 3
    assert grew("bazaar_outbox_delivery_seconds_bucket", channel="telegram", le="+Inf") == 3
    assert 0 < grew("bazaar_outbox_delivery_seconds_sum", channel="telegram") < 180
    assert after[("bazaar_exporter_up", ())] == 1
