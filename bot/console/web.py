"""What the console's pages share: the app's parts, rendering a page, the session cookie."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itsdangerous import TimestampSigner
from jinja2 import Environment
from sqlalchemy import Engine as Database
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.config import Settings
from bot.console import auth, csrf
from bot.i18n import UiText
from bot.live import LiveContent

COOKIE = "console_session"


@dataclass
class Console:
    """What every page needs, built once: on `request.app.state.console`."""

    settings: Settings
    database: Database
    live: LiveContent
    key: bytes
    limiter: auth.AttemptLimiter
    templates: Environment
    zone: dt.tzinfo
    ui: UiText
    saving: asyncio.Lock = field(default_factory=asyncio.Lock)  # one content save at a time

    @property
    def content_dir(self) -> Path:
        return self.settings.content_dir

    def signer(self) -> TimestampSigner:
        return TimestampSigner(self.key, salt="console-session")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page, with what the layout needs (who is signed in, the CSRF token)."""
    console: Console = request.app.state.console
    signed_in = getattr(request.state, "signed_in", None)
    page = console.templates.get_template(template).render(
        request=request,
        editor=signed_in.editor if signed_in else None,
        csrf_field=csrf.FIELD,
        csrf_token=csrf.token_for(console.key, signed_in.session_id) if signed_in else "",
        **context,
    )
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    # Inline style only, no script at all, never framed, no referrer (links carry tokens).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
    "data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def set_session_cookie(request: Request, response: Response, signed_in: auth.SignedIn) -> None:
    console: Console = request.app.state.console
    response.set_cookie(
        COOKIE,
        console.signer().sign(signed_in.session_id).decode(),
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )


def is_https(request: Request) -> bool:
    """Behind HTTPS (directly, or a proxy that says so and uvicorn trusts): Secure cookies."""
    console: Console = request.app.state.console
    return request.url.scheme == "https" or console.settings.console_address().startswith(
        "https://"
    )
