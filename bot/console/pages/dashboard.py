"""The dashboard: how the bot is used over a chosen period, as charts (counts only)."""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.console import charts
from bot.console.figures import figures
from bot.console.web import Console, render

PERIODS = (7, 30, 90)


def period(request: Request) -> int:
    try:
        days = int(request.query_params.get("days", "7"))
    except ValueError:
        days = 7
    return days if days in PERIODS else 7


def _minutes(delta: dt.timedelta | None) -> str:
    return "–" if delta is None else f"{delta.total_seconds() / 60:.0f} min"


async def page(request: Request) -> Response:
    console: Console = request.app.state.console
    days = period(request)
    found = await run_in_threadpool(
        figures, console.database, days, console.zone, dt.datetime.now(dt.UTC)
    )
    labels = [f"{d.day:%d %b}" for d in found.days]
    by_language = [
        (lang, [d.messages.get(lang, 0) for d in found.days]) for lang in found.languages
    ]
    people = [
        (lang, [d.conversations.get(lang, 0) for d in found.days]) for lang in found.languages
    ]
    stats = found.stats
    answered = max(found.texts - found.unanswered, 0)
    page_charts = [
        charts.stacked_bars("Messages per day, by language", labels, by_language),
        charts.stacked_bars(
            "Conversations (people who wrote) per day, by language", labels, people
        ),
        charts.horizontal_bars("Top intents", [(i.intent, i.messages) for i in stats.top_intents]),
        charts.share_bar(
            "Text messages answered and unanswered",
            [("answered", answered), ("unanswered", found.unanswered)],
        ),
        charts.horizontal_bars(
            "Handoffs opened, by reason", [(h.reason, h.tickets) for h in stats.handoffs]
        ),
        charts.share_bar(
            "Ratings after a handoff", [("👍", stats.ratings.up), ("👎", stats.ratings.down)]
        ),
    ]
    share = found.unanswered_share
    tiles = [
        ("Messages", str(stats.total.messages)),
        ("Conversations", str(stats.total.conversations)),
        ("Unanswered", "–" if share is None else f"{share:.0%}"),
        ("Handoffs opened", str(stats.tickets)),
        ("Waiting now", str(found.waiting_now)),
        ("First human reply p50", _minutes(stats.waits.median)),
        ("First human reply p90", _minutes(stats.waits.p90)),
    ]
    return render(
        request, "dashboard.html", days=days, periods=PERIODS, charts=page_charts, tiles=tiles
    )
