"""The record of changes: who changed what, and when."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.console import audit
from bot.console.web import Console, render


async def page(request: Request) -> Response:
    console: Console = request.app.state.console
    found = await run_in_threadpool(audit.recent, console.database)
    shown = [(c.at.astimezone(console.zone), c) for c in found]
    return render(request, "changes.html", changes=shown)
