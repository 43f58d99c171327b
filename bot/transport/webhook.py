"""Webhook mode: an ASGI app (Starlette, served by uvicorn) that takes Telegram's POSTs.

Several worker processes on one PostgreSQL behave as one bot: nothing that matters lives in
process memory, and an update delivered twice (a retry, or two workers) is handled once. When
the database is down the app answers 503, so Telegram keeps the update and retries it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import build_conversation, build_engine
from bot.config import Settings
from bot.i18n import UiText
from bot.log_privacy import set_up_logging
from bot.storage.database import make_engine
from bot.transport.app import build_application
from bot.transport.delivery import ChatOrder
from bot.transport.health import health_routes
from bot.transport.metrics import Metrics

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes (a 4096-character message and its entities); anything far
# bigger is not from Telegram.
MAX_BODY_BYTES = 1 << 20


def create_app(settings: Settings) -> Starlette:
    """The whole bot as an ASGI app; it registers its webhook with Telegram on start-up."""
    secret = settings.webhook_secret_value()
    if secret is None:
        raise ValueError("WEBHOOK_SECRET is required in webhook mode (Telegram sends it back)")
    parts = build_engine(settings)
    conversation = build_conversation(settings, parts, make_engine(settings.database_url))
    metrics = Metrics()
    application = build_application(
        settings, conversation, UiText(settings.locales_dir), metrics, updater=False
    )
    order = ChatOrder()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        if settings.webhook_url:
            await application.bot.set_webhook(
                settings.webhook_url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
        parts.engine.reader.detector.warm_up()
        yield
        await application.stop()
        if application.post_shutdown:
            await application.post_shutdown(application)
        await application.shutdown()

    async def telegram(request: Request) -> Response:
        if not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, "").encode(), secret.encode()
        ):
            metrics.updates.labels("refused").inc()
            return JSONResponse({"ok": False, "error": "bad secret token"}, status_code=403)
        body = await read_update(request)
        if isinstance(body, Response):
            return body
        try:
            update = Update.de_json(body, application.bot)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError, OSError):
            return _refused(400, "not an update")  # JSON, but not shaped like an update
        if await order.handle(application, conversation, metrics, update):
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": False, "error": "try again later"}, status_code=503)

    return Starlette(
        routes=[
            Route(settings.webhook_path, telegram, methods=["POST"]),
            *health_routes(conversation, metrics),
        ],
        lifespan=lifespan,
    )


async def read_update(request: Request) -> dict[str, Any] | Response:
    """The POSTed update as a JSON object with a whole-number `update_id`, or the 4xx that
    says why not: 413 past MAX_BODY_BYTES (read no further than that), 400 for anything
    else that is not an update (Telegram never sends one: it is a bug or a probe)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _refused(413, "too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return _refused(413, "too large")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past reason
        return _refused(400, "not JSON")
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return _refused(400, "not an update")
    return data


def _refused(status: int, error: str) -> Response:
    return JSONResponse({"ok": False, "error": error}, status_code=status)


def app_from_environment() -> Starlette:
    """For `uvicorn --factory`: each worker process builds its own app from the settings
    (and its own logging: a worker starts afresh, without the command line's)."""
    settings = Settings()
    set_up_logging(settings)
    return create_app(settings)
