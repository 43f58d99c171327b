"""Polling mode serves /healthz and /metrics too (METRICS_PORT), from its own event loop."""

from __future__ import annotations

import asyncio
import socket

import httpx

from bot.conversation import Conversation
from bot.transport.health import serve_health
from bot.transport.metrics import Metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_polling_mode_serves_health_and_metrics_until_the_bot_stops(
    conversation: Conversation,
) -> None:
    metrics = Metrics()
    metrics.updates.labels("handled").inc(3)
    port = _free_port()

    async def scrape() -> tuple[httpx.Response, httpx.Response, bool]:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_health(conversation, metrics, "127.0.0.1", port, stop))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(100):
                try:
                    health = await http.get("/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            page = await http.get("/metrics")
        stop.set()
        await asyncio.wait_for(serving, 10)
        return health, page, serving.done()

    health, page, stopped = asyncio.run(scrape())
    assert health.status_code == 200 and health.json()["database"] == "reachable"
    assert 'migrant_bot_updates_total{outcome="handled"} 3.0' in page.text
    assert stopped
