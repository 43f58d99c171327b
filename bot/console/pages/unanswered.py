"""Unanswered questions, grouped as `report unanswered` does, each with the intents the bot
hesitated between; one action makes the question an example and the bot learns it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.cli.ask import ask
from bot.console import editing
from bot.console.csrf import checked_form
from bot.console.pages.trying import decision
from bot.console.resolving import resolve_group
from bot.console.saving import save
from bot.console.web import Console, render
from bot.languages import LANGUAGES, as_language
from bot.reports.unanswered import QuestionGroup, unanswered_groups
from bot.understanding.classifier import OUT_OF_SCOPE as CLASSIFIER_OUT_OF_SCOPE
from bot.understanding.matcher import Candidate

PERIODS = (7, 30, 90)
SHOWN = 50


@dataclass(frozen=True)
class Row:
    group: QuestionGroup
    hesitated: tuple[Candidate, ...]  # the likeliest intents for its example, best first


def _days(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) in PERIODS else 30


def _since(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


def _rows(console: Console, days: int) -> list[Row]:
    groups = unanswered_groups(console.database, _since(days))[:SHOWN]
    reader = console.live.engine.reader
    rows = []
    for group in groups:
        hesitated: tuple[Candidate, ...] = ()
        if group.example is not None:
            reading = reader.read(group.example, as_language(group.language))
            hesitated = tuple(
                Candidate(
                    editing.OUT_OF_SCOPE if c.intent == CLASSIFIER_OUT_OF_SCOPE else c.intent,
                    c.score,
                )
                for c in reading.match.candidates[:3]
            )
        rows.append(Row(group, hesitated))
    return rows


async def _page(request: Request, days: int, status: int = 200, **context: object) -> Response:
    console: Console = request.app.state.console
    rows = await run_in_threadpool(_rows, console, days)
    intents = sorted(console.live.engine.catalog.intents)
    return render(
        request, "unanswered.html", status=status, rows=rows, days=days, periods=PERIODS,
        intents=[*intents, editing.OUT_OF_SCOPE], languages=LANGUAGES, **context,
    )  # fmt: skip


async def page(request: Request) -> Response:
    return await _page(request, _days(request.query_params.get("days")))


async def add(request: Request) -> Response:
    """Adds the group's question as an example of the chosen intent (or of out-of-scope)."""
    form = await checked_form(request)
    console: Console = request.app.state.console
    days = _days(str(form.get("days", "")))
    example = " ".join(str(form.get("example", "")).split())
    group_language = str(form.get("language", ""))
    lang = as_language(str(form.get("lang") or group_language))
    intent = str(form.get("intent", ""))
    known = {*console.live.engine.catalog.intents, editing.OUT_OF_SCOPE}
    if not example or lang is None or intent not in known:
        return await _page(request, days, 400, error="Choose an intent and a language.")
    try:
        saved = await save(
            request, partial(editing.add_example, console.content_dir, intent, lang, example),
            "add example",
        )  # fmt: skip
    except editing.EditError as exc:
        return await _page(request, days, 422, error=str(exc))
    edit = saved.edit
    if not saved.ok:
        return await _page(request, days, 422, problems=saved.checked.errors)
    resolved = await run_in_threadpool(
        resolve_group, console.database, group_language, example, _since(days)
    )
    outcome = await run_in_threadpool(ask, console.live.engine, example, lang)
    where = f"{edit.path.relative_to(console.content_dir.parent)}:{edit.line}"
    return await _page(
        request, days, added=where, resolved=resolved, example=example,
        now_decision=decision(outcome),
    )  # fmt: skip


routes = [
    Route("/unanswered", page),
    Route("/unanswered/add", add, methods=["POST"]),
]
