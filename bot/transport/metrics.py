"""Prometheus metrics of one bot process (each webhook worker exposes its own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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
        self.open_handoffs = Gauge(
            "migrant_bot_open_handoffs", "Tickets waiting for or talking to an operator",
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "migrant_bot_handling_seconds", "Time to handle one update",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)
