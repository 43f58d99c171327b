"""Prometheus metrics. One process: its own registry. Several webhook workers: each writes
its samples to PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, chosen by
that variable being set when the workers start) and `/metrics`, whichever worker answers,
adds up all of them."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The counters staff and deployers watch; one registry per process, passed in."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "migrant_bot_updates", "Telegram updates received", ["outcome"], registry=self.registry
        )
        self.replies = Counter(
            "migrant_bot_replies",
            "Answers sent, by language and intent (none: not understood)",
            ["language", "intent"],
            registry=self.registry,
        )
        self.unmatched = Counter(
            "migrant_bot_unmatched_questions", "Questions the bot could not answer",
            ["language"], registry=self.registry,
        )  # fmt: skip
        # Every worker reads the same queue: the latest reading is the value.
        self.open_handoffs = Gauge(
            "migrant_bot_open_handoffs", "Tickets waiting for or talking to an operator",
            registry=self.registry, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.latency = Histogram(
            "migrant_bot_handling_seconds", "Time to handle one update",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )  # fmt: skip

    def render(self) -> bytes:
        """This process's metrics, or every worker's added up in multiprocess mode."""
        if os.environ.get(MULTIPROC_VARIABLE):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
