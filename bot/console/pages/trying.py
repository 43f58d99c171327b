"""Try a question: what the bot understands of it and exactly what it replies."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.cli.ask import ask
from bot.console.web import Console, render
from bot.dialog.events import Outcome
from bot.languages import LANGUAGES, as_language

MAX_CHARS = 4096  # a Telegram message


def decision(outcome: Outcome) -> str:
    """answer / did you mean / not understood / danger, in the words of the engine's paths."""
    understanding = outcome.understanding
    if outcome.danger:
        return "danger: the emergency numbers come first"
    if understanding and understanding.intent:
        return f"answer: {understanding.intent}"
    if understanding and understanding.suggestions:
        return "did you mean: " + ", ".join(understanding.suggestions)
    return "not understood: the menu and a person are offered"


async def page(request: Request) -> Response:
    console: Console = request.app.state.console
    text = request.query_params.get("text", "")[:MAX_CHARS].strip()
    lang = as_language(request.query_params.get("lang"))
    context: dict[str, Any] = {"text": text, "lang": lang or "", "languages": LANGUAGES}
    if text:
        engine = console.live.engine
        reading = await run_in_threadpool(engine.reader.read, text, lang)
        outcome = await run_in_threadpool(ask, engine, text, lang)
        context.update(
            reading=reading,
            candidates=reading.match.candidates[:6],
            outcome=outcome,
            decision=decision(outcome),
        )
    return render(request, "try.html", **context)
