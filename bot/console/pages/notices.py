"""Notices (content/notices.yaml): short texts shown with the answers they concern, in their
window; created and ended here."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console import editing
from bot.console.csrf import checked_form
from bot.console.saving import save, today
from bot.console.web import Console, render
from bot.languages import LANGUAGES


async def _page(request: Request, status: int = 200, **context: Any) -> Response:
    console: Console = request.app.state.console
    day = today(console)
    notices = sorted(console.live.engine.catalog.notices, key=lambda n: (n.ends < day, n.starts))
    return render(
        request, "notices.html", status=status, notices=notices, today=day,
        languages=LANGUAGES, form=context.pop("form", {}), **context,
    )  # fmt: skip


async def page(request: Request) -> Response:
    return await _page(request)


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


async def create(request: Request) -> Response:
    form = await checked_form(request)
    console: Console = request.app.state.console
    fields = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    starts, ends = _date(fields.get("from")), _date(fields.get("until"))
    concerns = [c.strip() for c in fields.get("concerns", "").split(",") if c.strip()]
    if starts is None or ends is None:
        return await _page(request, 400, error="Give both days as YYYY-MM-DD.", form=fields)
    notice: dict[str, Any] = {
        "id": fields.get("id", ""),
        "text": {lang: fields.get(f"text_{lang}", "") for lang in LANGUAGES},
        "concerns": concerns,
        "from": starts,
        "until": ends,
        "reviewed": today(console),
    }
    if fields.get("source_url"):
        source: dict[str, Any] = {
            "publisher": fields.get("source_publisher", ""),
            "title": fields.get("source_title", ""),
            "date": _date(fields.get("source_date")) or today(console),
            "url": fields["source_url"],
            "grade": fields.get("source_grade", "A"),
        }
        notice["sources"] = [source]
    try:
        saved = await save(request, partial(editing.add_notice, console.content_dir, notice),
                           "add notice")  # fmt: skip
    except editing.EditError as exc:
        return await _page(request, 422, error=str(exc), form=fields)
    if not saved.ok:
        return await _page(request, 422, problems=saved.checked.errors, form=fields)
    return RedirectResponse("/notices?saved=1", status_code=303)


async def end(request: Request) -> Response:
    await checked_form(request)
    console: Console = request.app.state.console
    change = partial(
        editing.end_notice, console.content_dir, request.path_params["notice"], today(console)
    )
    try:
        saved = await save(request, change, "end notice")
    except editing.EditError as exc:
        return await _page(request, 404, error=str(exc))
    if not saved.ok:
        return await _page(request, 422, problems=saved.checked.errors)
    return RedirectResponse("/notices?saved=1", status_code=303)


routes = [
    Route("/notices", page),
    Route("/notices/add", create, methods=["POST"]),
    Route("/notices/{notice}/end", end, methods=["POST"]),
]
