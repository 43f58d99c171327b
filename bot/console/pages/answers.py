"""Answers: every intent with its four answers, sources and review date, stale ones first;
editing one with a preview of what the person sees and the check's problems before saving."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console import editing
from bot.console.csrf import checked_form
from bot.console.preview import answer_outcome, engine_for
from bot.console.saving import save, today
from bot.console.web import Console, render
from bot.content.catalog import Intent
from bot.content.loader import REVIEW_EVERY_DAYS, SOURCE_FRESH_DAYS
from bot.content.problems import Severity
from bot.dialog.engine import Engine
from bot.languages import LANGUAGES, Lang, as_language


@dataclass(frozen=True)
class Freshness:
    """The check's freshness rules (bot/content/loader.py): reviewed within REVIEW_EVERY_DAYS,
    every source published or confirmed within SOURCE_FRESH_DAYS."""

    intent: Intent
    review_age: int
    stale_sources: int

    @property
    def stale(self) -> bool:
        return self.review_age > REVIEW_EVERY_DAYS or self.stale_sources > 0


def freshness(intent: Intent, day: dt.date) -> Freshness:
    old = sum(1 for s in intent.sources if (day - s.as_of).days > SOURCE_FRESH_DAYS)
    return Freshness(intent, (day - intent.reviewed).days, old)


def _intent(console: Console, request: Request) -> Intent:
    intent = console.live.engine.catalog.intents.get(request.path_params["intent"])
    if intent is None:
        raise HTTPException(404, "No such intent.")
    return intent


def _lang(request: Request) -> Lang:
    lang = as_language(request.path_params["lang"])
    if lang is None:
        raise HTTPException(404, "No such language.")
    return lang


async def listing(request: Request) -> Response:
    console: Console = request.app.state.console
    day = today(console)
    rows = [freshness(i, day) for i in console.live.engine.catalog.intents.values()]
    rows.sort(key=lambda f: (not f.stale, f.intent.reviewed, f.intent.id))
    return render(request, "answers.html", rows=rows, review_days=REVIEW_EVERY_DAYS)


async def detail(request: Request) -> Response:
    console: Console = request.app.state.console
    intent = _intent(console, request)
    engine = console.live.engine
    previews = {lang: answer_outcome(engine, intent.id, lang) for lang in LANGUAGES}
    return render(
        request, "answer.html", intent=intent, languages=LANGUAGES, previews=previews,
        fresh=freshness(intent, today(console)), source_days=SOURCE_FRESH_DAYS,
        today=today(console),
    )  # fmt: skip


async def edit(request: Request) -> Response:
    """The edit form (GET) or, posted, a preview of the change or its saving."""
    console: Console = request.app.state.console
    intent = _intent(console, request)
    lang = _lang(request)
    text = intent.answer.get(lang, "")
    context: dict[str, object] = {}
    engine: Engine | None = console.live.engine
    status = 200
    if request.method == "POST":
        form = await checked_form(request)
        text = str(form.get("answer", "")).replace("\r\n", "\n")
        change = partial(editing.set_answer, console.content_dir, intent.id, lang, text)
        if form.get("action") == "save":
            saved = await save(request, change, "edit answer")
            checked = saved.checked
            if saved.ok:
                return RedirectResponse(f"/answers/{intent.id}?saved={lang}", status_code=303)
            status = 422
        else:
            checked = await run_in_threadpool(editing.check, console.content_dir, change())
        # Every error stops the save; of the warnings, this intent's own.
        context["problems"] = [
            p for p in checked.problems
            if p.severity is Severity.ERROR or p.field.startswith(f"{intent.id}.")
        ]  # fmt: skip
        context["refused"] = bool(checked.errors)
        engine = (
            await run_in_threadpool(
                engine_for, checked.catalog, console.live.engine, console.ui,
                console.settings.retention_days,
            )
            if checked.catalog is not None
            else None
        )  # fmt: skip
    preview = answer_outcome(engine, intent.id, lang) if engine is not None else None
    return render(
        request, "answer_edit.html", status=status, intent=intent, lang=lang, text=text,
        preview=preview, **context,
    )  # fmt: skip


async def reviewed(request: Request) -> Response:
    """Mark reviewed: a person checked the answers against the sources today."""
    await checked_form(request)
    console: Console = request.app.state.console
    intent = _intent(console, request)
    change = partial(editing.set_reviewed, console.content_dir, intent.id, today(console))
    saved = await save(request, change, "mark reviewed")
    if not saved.ok:
        return render(request, "error.html", status=422, message="Not saved: "
                      + "; ".join(str(p) for p in saved.checked.errors))  # fmt: skip
    return RedirectResponse(f"/answers/{intent.id}?saved=reviewed", status_code=303)


routes = [
    Route("/answers", listing),
    Route("/answers/{intent}", detail),
    Route("/answers/{intent}/reviewed", reviewed, methods=["POST"]),
    Route("/answers/{intent}/{lang}", edit, methods=["GET", "POST"]),
]
