"""Privacy by default: message text older than the retention period is deleted; the counts
that reports need (who, when, which intent, which language) survive without it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.storage.models import (
    FAILED,
    ConversationEvent,
    ProcessedUpdate,
    RelayedMessage,
    Ticket,
    UnansweredQuestion,
    UnsentReplies,
)


@dataclass(frozen=True)
class Purged:
    event_texts: int
    unanswered_texts: int
    relayed: int


def purge(engine: Engine, now: dt.datetime, days: int) -> Purged:
    """Deletes text older than `days` in one transaction; safe to run on several workers."""
    cutoff = now - dt.timedelta(days=days)
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        events = session.execute(
            update(ConversationEvent)
            .where(ConversationEvent.at < cutoff, ConversationEvent.text.is_not(None))
            .values(text=None)
        )
        unanswered = session.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.at < cutoff, UnansweredQuestion.text.is_not(None))
            .values(text=None)
        )
        # Which staff message carried which person's message: not needed once a ticket is
        # closed and old, and it links an operator's chat to a person.
        closed_long_ago = select(Ticket.id).where(
            Ticket.status == "closed", Ticket.closed_at < cutoff
        )
        relayed = session.execute(
            delete(RelayedMessage).where(RelayedMessage.ticket_id.in_(closed_long_ago))
        )
        # Telegram retries an update for a day at most; what it had left to send goes with
        # it. The failed ones are counted in the
        # staff's report for the retention period (they hold no text).
        session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.at < now - dt.timedelta(days=2),
                or_(ProcessedUpdate.state != FAILED, ProcessedUpdate.at < cutoff),
            )
        )
        session.execute(delete(UnsentReplies).where(UnsentReplies.at < now - dt.timedelta(days=2)))
        return Purged(_count(events), _count(unanswered), _count(relayed))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0))
