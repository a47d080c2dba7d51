"""The HTTP side of our exporters: a collector's metrics served on HOST:PORT/metrics."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY
from prometheus_client.registry import Collector

from bazaar.jsonlog import log


@contextlib.contextmanager
def serving(collector: Collector, listen: str, name: str) -> Iterator[None]:
    """COLLECTOR's metrics on http://LISTEN/metrics (HOST:PORT) while the block runs."""
    REGISTRY.register(collector)
    host, _, port = listen.rpartition(":")
    server, thread = start_http_server(int(port), addr=host)
    log("info", f"{name} listening", listen=listen)
    try:
        yield
    finally:
        server.shutdown()
        thread.join(5)
