"""How the bot is used over a period: conversations and messages per day and per language, top
intents, handoffs, how long people wait for an operator, and how they rate the help."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, case, distinct, func, select

from bot.reports import as_utc
from bot.storage.models import FAILED, ConversationEvent, ProcessedUpdate, Ticket

UNKNOWN_LANGUAGE = "?"


@dataclass(frozen=True)
class Usage:
    """Conversations (distinct people who wrote) and messages (what they sent) in a bucket."""

    key: str  # a day (YYYY-MM-DD) or a language
    conversations: int
    messages: int


@dataclass(frozen=True)
class IntentCount:
    intent: str
    messages: int


@dataclass(frozen=True)
class Handoffs:
    """Tickets opened for one reason (asked, not_understood, emergency)."""

    reason: str
    tickets: int
    urgent: int


@dataclass(frozen=True)
class Waits:
    """Time from opening a ticket to the first operator reply, for tickets that got one."""

    answered: int
    median: dt.timedelta | None
    p90: dt.timedelta | None


@dataclass(frozen=True)
class Ratings:
    up: int
    down: int

    @property
    def rated(self) -> int:
        return self.up + self.down

    @property
    def up_share(self) -> float | None:
        return self.up / self.rated if self.rated else None

    @property
    def down_share(self) -> float | None:
        return self.down / self.rated if self.rated else None


@dataclass(frozen=True)
class Stats:
    since: dt.datetime
    total: Usage
    per_day: tuple[Usage, ...]  # oldest first, days with no message left out
    per_language: tuple[Usage, ...]  # most messages first
    top_intents: tuple[IntentCount, ...]
    handoffs: tuple[Handoffs, ...]  # most tickets first
    waits: Waits
    ratings: Ratings
    failed_updates: int  # answered with the apology: the database refused them (not retried)

    @property
    def tickets(self) -> int:
        return sum(h.tickets for h in self.handoffs)

    @property
    def urgent(self) -> int:
        return sum(h.urgent for h in self.handoffs)


def usage_stats(
    engine: Engine, since: dt.datetime, zone: dt.tzinfo = dt.UTC, top: int = 10
) -> Stats:
    """Figures since `since`; days are counted in `zone` (the NGO's time zone), and tickets
    count when they were opened in the period."""
    since = as_utc(since)
    with engine.connect() as connection:
        incoming = (ConversationEvent.direction == "in", ConversationEvent.at >= since)
        people, messages = connection.execute(
            select(func.count(distinct(ConversationEvent.user_id)), func.count()).where(*incoming)
        ).one()
        per_language = [
            Usage(language or UNKNOWN_LANGUAGE, int(people_count), int(count))
            for language, people_count, count in connection.execute(
                select(
                    ConversationEvent.language,
                    func.count(distinct(ConversationEvent.user_id)),
                    func.count(),
                )
                .where(*incoming)
                .group_by(ConversationEvent.language)
            )
        ]
        # Days are cut in the NGO's time zone, which SQL cannot do alike on SQLite and
        # PostgreSQL: only the moments and people are read, in a stream.
        day_people: dict[dt.date, set[int]] = defaultdict(set)
        day_messages: dict[dt.date, int] = defaultdict(int)
        moments = select(ConversationEvent.at, ConversationEvent.user_id).where(*incoming)
        for at, user_id in connection.execute(moments.execution_options(yield_per=1000)):
            day = as_utc(at).astimezone(zone).date()
            day_people[day].add(user_id)
            day_messages[day] += 1
        intent_count = func.count().label("n")
        intents = connection.execute(
            select(ConversationEvent.intent, intent_count)
            .where(*incoming, ConversationEvent.intent.is_not(None))
            .group_by(ConversationEvent.intent)
            .order_by(intent_count.desc(), ConversationEvent.intent)
            .limit(top)
        ).all()
        opened = Ticket.opened_at >= since
        handoffs = connection.execute(
            select(Ticket.reason, func.count(), func.sum(case((Ticket.urgent, 1), else_=0)))
            .where(opened)
            .group_by(Ticket.reason)
        ).all()
        replies = connection.execute(
            select(Ticket.opened_at, Ticket.first_reply_at).where(
                opened, Ticket.first_reply_at.is_not(None)
            )
        ).all()
        failed = connection.execute(
            select(func.count()).where(
                ProcessedUpdate.state == FAILED, ProcessedUpdate.at >= since
            )
        ).scalar_one()
        ratings = dict(
            connection.execute(
                select(Ticket.rating, func.count())
                .where(opened, Ticket.rating.is_not(None))
                .group_by(Ticket.rating)
            ).all()
        )
    waits = sorted(as_utc(reply) - as_utc(start) for start, reply in replies if reply)
    return Stats(
        since=since,
        total=Usage("all", int(people), int(messages)),
        per_day=tuple(
            Usage(day.isoformat(), len(day_people[day]), day_messages[day])
            for day in sorted(day_messages)
        ),
        per_language=tuple(sorted(per_language, key=lambda u: (-u.messages, u.key))),
        top_intents=tuple(IntentCount(intent or "", int(n)) for intent, n in intents),
        handoffs=tuple(
            sorted(
                (Handoffs(reason, int(n), int(urgent or 0)) for reason, n, urgent in handoffs),
                key=lambda h: (-h.tickets, h.reason),
            )
        ),
        waits=Waits(len(waits), percentile(waits, 0.5), percentile(waits, 0.9)),
        ratings=Ratings(int(ratings.get("up", 0)), int(ratings.get("down", 0))),
        failed_updates=int(failed),
    )


def percentile(ordered: Sequence[dt.timedelta], share: float) -> dt.timedelta | None:
    """Linear interpolation between the closest ranks (as numpy's default and the median),
    computed here because SQLite has no percentile function."""
    if not ordered:
        return None
    position = share * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
