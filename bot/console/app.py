"""The console's Starlette app: its routes, the session gate in front of them, templates.

Every page but the sign-in ones needs an open session; pages are server-rendered with Jinja2
(no script, no build step) and the style sheet is inlined, so nothing at all is served to
someone not signed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine as Database
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import Settings
from bot.console import auth
from bot.console.pages import answers, changes, dashboard, login, notices, trying, unanswered
from bot.console.web import COOKIE, Console, render
from bot.i18n import UiText
from bot.live import LiveContent

log = logging.getLogger(__name__)
OPEN_PATHS = ("/login",)  # the only pages reachable without a session


class SessionGate(BaseHTTPMiddleware):
    """Lets a request through only with a signed cookie naming an open session."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        console: Console = request.app.state.console
        request.state.signed_in = None
        cookie = request.cookies.get(COOKIE)
        if cookie:
            try:
                session_id = console.signer().unsign(
                    cookie, max_age=int(auth.SESSION_LIFETIME.total_seconds())
                )
            except BadSignature:
                session_id = None
            if session_id:
                request.state.signed_in = await run_in_threadpool(
                    auth.session_of, console.database, session_id.decode()
                )
        if request.state.signed_in is None and not request.url.path.startswith(OPEN_PATHS):
            return render(request, "signed_out.html", status=401)
        return await call_next(request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render(request, "error.html", status=exc.status_code, message=exc.detail)


def templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("bot.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


@contextlib.asynccontextmanager
async def _follow_content(app: Starlette) -> AsyncIterator[None]:
    """While serving, follows edits made elsewhere (an editor's git pull, the bot's /reload)
    as the bot does, so "try a question" answers like the bot."""
    console: Console = app.state.console

    async def follow() -> None:
        while True:
            await asyncio.sleep(console.settings.content_check_seconds)
            try:
                await asyncio.to_thread(console.live.reload_if_changed)
            except Exception as exc:  # the next turn tries again; the message may hold text
                log.warning("content follow-up failed: %s", type(exc).__name__)

    task = asyncio.create_task(follow())
    try:
        yield
    finally:
        task.cancel()


def create_app(settings: Settings, database: Database, live: LiveContent) -> Starlette:
    """The console on `database` and the content `live` serves (and reloads after a save)."""
    routes = [
        Route("/", dashboard.page),
        *login.routes,
        *unanswered.routes,
        *answers.routes,
        Route("/try", trying.page),
        *notices.routes,
        Route("/changes", changes.page),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SessionGate)],
        exception_handlers={HTTPException: _http_error},
        lifespan=_follow_content,
    )
    app.state.console = Console(
        settings=settings,
        database=database,
        live=live,
        key=settings.console_key(),
        limiter=auth.AttemptLimiter(),
        templates=templates(),
        zone=ZoneInfo(settings.timezone),
        ui=UiText(settings.locales_dir),
    )
    return app
