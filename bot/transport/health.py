"""`/healthz` and `/metrics`, the same in both modes: on the webhook's port, or in polling
mode on METRICS_PORT (a small server of its own in the bot's event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.conversation import Conversation
from bot.transport.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)


def health_routes(conversation: Conversation, metrics: Metrics) -> list[Route]:
    """The two routes a deployer's monitoring reads."""

    async def healthz(_request: Request) -> Response:
        try:
            await asyncio.to_thread(conversation.ping)
        except DBAPIError as exc:
            log.error("health check: database unreachable (%s)", type(exc.orig).__name__)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        # The content version lets a deployer see that every worker serves the same content.
        version = conversation.engine.catalog.version
        return JSONResponse({"ok": True, "database": "reachable", "content": version})

    async def metrics_page(_request: Request) -> Response:
        with contextlib.suppress(DBAPIError):
            metrics.open_handoffs.set(len(await asyncio.to_thread(conversation.desk.queue)))
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return [Route("/healthz", healthz), Route("/metrics", metrics_page)]


class _InLoop(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM and Ctrl-C to the bot: the poller's stop
    ends it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_health(
    conversation: Conversation, metrics: Metrics, host: str, port: int, stop: asyncio.Event
) -> None:
    """Serves the two routes on host:port until `stop` is set."""
    app = Starlette(routes=health_routes(conversation, metrics))
    server = _InLoop(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await serving
