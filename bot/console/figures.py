"""The dashboard's figures: `report stats` (bot/reports/stats.py) and what a chart needs
beyond it (each day split by language, the unanswered share, tickets waiting now). Counts
only: no message text is read."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, distinct, func, select

from bot.reports import as_utc
from bot.reports.stats import UNKNOWN_LANGUAGE, Stats, usage_stats
from bot.storage.models import ConversationEvent, Ticket, UnansweredQuestion


@dataclass(frozen=True)
class DayByLanguage:
    day: dt.date
    messages: dict[str, int]
    conversations: dict[str, int]


@dataclass(frozen=True)
class Figures:
    stats: Stats
    days: tuple[DayByLanguage, ...]  # every day of the period, oldest first
    languages: tuple[str, ...]  # most messages first
    unanswered: int
    texts: int  # text messages people sent: what the unanswered share is of
    waiting_now: int

    @property
    def unanswered_share(self) -> float | None:
        return self.unanswered / self.texts if self.texts else None


def figures(database: Engine, days: int, zone: dt.tzinfo, now: dt.datetime) -> Figures:
    """The last `days` days in `zone` (today included)."""
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), zone)
    stats = usage_stats(database, since, zone)
    messages: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    incoming = (ConversationEvent.direction == "in", ConversationEvent.at >= as_utc(since))
    with database.connect() as connection:
        rows = select(
            ConversationEvent.at, ConversationEvent.user_id, ConversationEvent.language
        ).where(*incoming)
        for at, user_id, language in connection.execute(rows.execution_options(yield_per=1000)):
            day = as_utc(at).astimezone(zone).date()
            lang = language or UNKNOWN_LANGUAGE
            messages[day][lang] += 1
            people[day][lang].add(user_id)
        unanswered = connection.execute(
            select(func.count()).where(UnansweredQuestion.at >= as_utc(since))
        ).scalar_one()
        texts = connection.execute(
            select(func.count(distinct(ConversationEvent.id))).where(
                *incoming, ConversationEvent.kind == "text"
            )
        ).scalar_one()
        waiting = connection.execute(
            select(func.count()).where(Ticket.status == "waiting")
        ).scalar_one()
    series = tuple(
        DayByLanguage(
            first + dt.timedelta(days=i),
            dict(messages.get(first + dt.timedelta(days=i), {})),
            {k: len(v) for k, v in people.get(first + dt.timedelta(days=i), {}).items()},
        )
        for i in range(days)
    )
    return Figures(
        stats=stats,
        days=series,
        languages=tuple(u.key for u in stats.per_language),
        unanswered=int(unanswered),
        texts=int(texts),
        waiting_now=int(waiting),
    )
