"""HTTP front of the emulator: Bot API routes, file downloads, control API, webhook delivery.

``create_app`` builds a Starlette app around an ``EmulatorState`` (for in-process tests);
``serve`` runs it with uvicorn and announces the bound address (for ``python -m tests.emulator``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from . import botapi, control
from .state import JSON, ApiError, ControlError, EmulatorState, Webhook

TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
READY_LINE = "emulator listening on http://{host}:{port}"


def telegram_error(error: ApiError) -> JSONResponse:
    return JSONResponse(error.payload(), status_code=error.code)


NOT_FOUND = ApiError(404, "Not Found")
UNAUTHORIZED = ApiError(401, "Unauthorized")


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _token_ok(state: EmulatorState, token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token)) and token == state.bot.token


# ------------------------------------------------------------------ request bodies


async def read_params(request: Request) -> tuple[JSON, dict[str, botapi.Upload]]:
    """Merge query string and body (JSON, urlencoded or multipart) like the Bot API does."""
    values: JSON = dict(request.query_params)
    uploads: dict[str, botapi.Upload] = {}
    body = await request.body() if request.method == "POST" else b""
    if not body:
        return values, uploads
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        values.update(data)
    elif media_type == "multipart/form-data":
        fields, uploads = parse_multipart(body, content_type)
        values.update(fields)
        values.update(uploads)
    else:
        values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return values, uploads


def parse_multipart(body: bytes, content_type: str) -> tuple[JSON, dict[str, botapi.Upload]]:
    """Minimal multipart/form-data parser, so the emulator needs no python-multipart."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError("multipart body without boundary")
    fields: JSON = {}
    uploads: dict[str, botapi.Upload] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = _part_headers(head.decode("utf-8", "replace"))
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name") or ""
        filename = _disposition_param(disposition, "filename")
        content = content.removesuffix(b"\r\n")
        if filename is None:
            fields[name] = content.decode("utf-8")
        else:
            content_type = headers.get("content-type", "application/octet-stream")
            uploads[name] = botapi.Upload(filename, content_type, content)
    return fields, uploads


def _part_headers(head: str) -> dict[str, str]:
    headers = {}
    for line in head.split("\r\n"):
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return headers


def _disposition_param(disposition: str, name: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{name}="([^"]*)"', disposition)
    return match.group(1) if match else None


# ------------------------------------------------------------------ Bot API


async def bot_api(request: Request) -> Response:
    """``/bot<TOKEN>/<method>``: authenticate, decode, apply flood rules, run, log."""
    state = _state(request)
    if not _token_ok(state, request.path_params["token"]):
        return telegram_error(UNAUTHORIZED)
    resolved = botapi.resolve(request.path_params["method"])
    if resolved is None:
        return telegram_error(NOT_FOUND)
    name, _handler = resolved
    try:
        raw, uploads = await read_params(request)
    except (ValueError, UnicodeDecodeError):
        return telegram_error(ApiError(400, "Bad Request: can't parse request body"))
    status, body = await answer_call(state, name, botapi.normalize_params(raw), uploads)
    return JSONResponse(body, status_code=status)


async def answer_call(
    state: EmulatorState, name: str, params: JSON, uploads: dict[str, botapi.Upload]
) -> tuple[int, JSON]:
    """Run one Bot API method on the state (floods and faults first) and log it: the HTTP
    route's core, also called without HTTP by tests/inprocess.py."""
    _name, handler = botapi.METHODS[name.lower()]
    try:
        flood = state.take_flood(name)
        if flood is not None:
            raise flood
        fault = state.take_fault(name)
        if fault is not None and not fault.delivered:
            raise fault.error()
        outcome = await handler(state, botapi.Params(params, uploads))
        if fault is not None:
            raise fault.error()
    except ApiError as error:
        _log_call(state, name, params, error.payload())
        return error.code, error.payload()
    body: JSON = {"ok": True, "result": outcome}
    if isinstance(outcome, botapi.Described):
        body = {"ok": True, "result": outcome.result, "description": outcome.description}
    _log_call(state, name, params, body)
    return 200, body


def _log_call(state: EmulatorState, name: str, params: JSON, response: JSON) -> None:
    """Log a finished call; a deep copy so later edits don't rewrite history."""
    entry = state.record_call(name, botapi.loggable(params))
    entry.update(copy.deepcopy(response))
    state.notify()


async def download_file(request: Request) -> Response:
    """``/file/bot<TOKEN>/<file_path>``, the URL python-telegram-bot builds from getFile."""
    state = _state(request)
    if not _token_ok(state, request.path_params["token"]):
        return telegram_error(UNAUTHORIZED)
    path = request.path_params["file_path"]
    for stored in state.files.values():
        if stored.file_path == path:
            media_type = stored.mime_type or "application/octet-stream"
            return Response(stored.content or b"", media_type=media_type)
    return telegram_error(NOT_FOUND)


# ------------------------------------------------------------------ control API


def _control_endpoint(handler: control.ControlHandler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        args: JSON = dict(request.query_params)
        try:
            body = await request.body()
            if body:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ControlError("the JSON body must be an object")
                args.update(data)
            args.update(request.path_params)
            result = await handler(_state(request), args)
        except ControlError as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        except ApiError as error:
            return JSONResponse({"error": error.description}, status_code=400)
        except (KeyError, ValueError, TypeError) as error:
            return JSONResponse({"error": f"bad control request: {error!r}"}, status_code=400)
        return JSONResponse(result)

    endpoint.__doc__ = handler.__doc__
    return endpoint


def _control_routes() -> list[BaseRoute]:
    return [
        Route(path, _control_endpoint(handler), methods=[http_method])
        for http_method, path, handler in control.ROUTES
    ]


# ------------------------------------------------------------------ webhook delivery


async def deliver_webhooks(state: EmulatorState) -> None:
    """POST queued updates to the webhook in order, retrying non-2xx with backoff."""
    failures = 0
    async with httpx.AsyncClient(timeout=10) as http:
        while not state.notifier.closed:
            ready = await state.wait_until(lambda: _next_webhook_update(state) is not None, 60)
            update = _next_webhook_update(state) if ready else None
            if update is None:
                continue
            error = await _post_update(http, state.webhook, update)
            _record_delivery(state, update, error)
            if error is None:
                failures = 0
                continue
            failures += 1
            await asyncio.sleep(min(state.webhook_retry_delay * 2 ** (failures - 1), 5.0))


def _next_webhook_update(state: EmulatorState) -> JSON | None:
    if not state.webhook.url:
        return None
    pending = state.deliverable_updates(state.allowed_updates)
    return pending[0] if pending else None


async def _post_update(http: httpx.AsyncClient, webhook: Webhook, update: JSON) -> str | None:
    """Send one update; returns Telegram's wording of the failure, or None on success."""
    headers = {}
    if webhook.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
    try:
        response = await http.post(webhook.url, json=update, headers=headers)
    except httpx.ConnectError:
        return "Connection refused"
    except httpx.HTTPError as error:
        return f"Connection error: {type(error).__name__}"
    if 200 <= response.status_code < 300:
        return None
    return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"


def _record_delivery(state: EmulatorState, update: JSON, error: str | None) -> None:
    entry = {"update_id": update["update_id"], "ok": error is None, "error": error}
    state.webhook.deliveries.append({**entry, "date": state.now()})
    if error is None:
        state.updates = [u for u in state.updates if u["update_id"] != update["update_id"]]
    else:
        state.webhook.last_error_date, state.webhook.last_error_message = state.now(), error
    state.notify()


# ------------------------------------------------------------------ app and serving


def create_app(state: EmulatorState | None = None) -> Starlette:
    """The emulator as an ASGI app; ``app.state.emulator`` is the ``EmulatorState``."""
    emulator = state or EmulatorState()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = asyncio.create_task(deliver_webhooks(emulator))
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def not_found(request: Request, exc: Exception) -> Response:
        return telegram_error(NOT_FOUND)

    routes: list[BaseRoute] = [
        Route("/bot{token}/{method}", bot_api, methods=["GET", "POST"]),
        Route("/file/bot{token}/{file_path:path}", download_file, methods=["GET"]),
        Mount("/_emulator", routes=_control_routes()),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.emulator = emulator
    return app


class _Server(uvicorn.Server):
    """uvicorn server that releases parked long polls as soon as shutdown is requested."""

    def __init__(self, config: uvicorn.Config, state: EmulatorState) -> None:
        super().__init__(config)
        self.emulator = state

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.emulator.notifier.close()
        super().handle_exit(sig, frame)


async def serve(
    state: EmulatorState,
    host: str = "127.0.0.1",
    port: int = 0,
    announce: Callable[[str], None] = print,
    log_level: str = "warning",
) -> None:
    """Run until SIGINT/SIGTERM; ``port=0`` picks a free port, announced once bound."""
    config = uvicorn.Config(
        create_app(state),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    server = _Server(config, state)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # startup failed (e.g. port in use): surface the error
            return
        await asyncio.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    announce(READY_LINE.format(host=host, port=bound_port))
    await task
