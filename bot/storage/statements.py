"""The statements every message runs, built once per dialect with bound parameters.

Building a statement (an upsert's `excluded` alias, a subquery) costs more CPU than SQLite
takes to run it; built once, each execution only binds values and finds the compiled form
in SQLAlchemy's cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import cast

from sqlalchemy import Executable, Table, bindparam, insert, or_, select, update
from sqlalchemy.sql import ColumnElement

from bot.storage.models import (
    HANDLING,
    ConversationEvent,
    Person,
    ProcessedUpdate,
    Ticket,
    UnansweredQuestion,
)

PEOPLE, EVENTS, UNANSWERED, PROCESSED, TICKETS = (
    cast(Table, model.__table__)
    for model in (Person, ConversationEvent, UnansweredQuestion, ProcessedUpdate, Ticket)
)


@dataclass(frozen=True)
class HotStatements:
    """Claim (`claim`, else `retake`, else `claim_state`), the person's `state`, the turn's
    record (`person`, `event`, `unanswered`), and a held claim's `renew`, `release` and
    `finish`. Parameters are named `p_*`."""

    claim: Executable
    retake: Executable
    claim_state: Executable
    state: Executable
    person: Executable
    event: Executable
    unanswered: Executable
    renew: Executable
    release: Executable
    finish: Executable


def _held() -> tuple[ColumnElement[bool], ...]:
    """The claim of `p_update_id` is still `p_owner`'s, and the update not yet handled."""
    return (
        PROCESSED.c.update_id == bindparam("p_update_id"),
        PROCESSED.c.owner == bindparam("p_owner"),
        PROCESSED.c.state == HANDLING,
    )


def hot_statements(dialect: ModuleType) -> HotStatements:
    """`dialect`: sqlalchemy.dialects.sqlite or .postgresql (their INSERT ... ON CONFLICT)."""
    row = PROCESSED.c.update_id == bindparam("p_update_id")
    claim = (
        dialect.insert(PROCESSED)
        .values(
            update_id=bindparam("p_update_id"),
            at=bindparam("p_now"),
            state=HANDLING,
            claimed_at=bindparam("p_now"),
            owner=bindparam("p_owner"),
        )
        .on_conflict_do_nothing()
        .returning(PROCESSED.c.update_id)
    )
    retake = (
        update(PROCESSED)
        .where(
            row,
            PROCESSED.c.state == HANDLING,
            or_(
                PROCESSED.c.claimed_at.is_(None),
                PROCESSED.c.claimed_at < bindparam("p_stale_before"),
            ),
        )
        .values(claimed_at=bindparam("p_now"), owner=bindparam("p_owner"))
    )
    open_ticket = (
        select(TICKETS.c.id)
        .where(
            TICKETS.c.user_id == bindparam("p_user_id"),
            TICKETS.c.status.in_(("waiting", "claimed")),
        )
        .exists()
    )
    state = select(
        PEOPLE.c.language, PEOPLE.c.language_chosen, PEOPLE.c.pending, open_ticket
    ).where(PEOPLE.c.user_id == bindparam("p_user_id"))
    # Two first messages of a person handled at once (two webhook workers) must not
    # collide on the new row: that would be an integrity error, which is for good.
    new = dialect.insert(PEOPLE).values(
        user_id=bindparam("p_user_id"),
        language=bindparam("p_language"),
        language_chosen=bindparam("p_language_chosen"),
        pending=bindparam("p_pending"),
        first_seen=bindparam("p_at"),
        last_seen=bindparam("p_at"),
        unreachable_since=None,
    )
    person = new.on_conflict_do_update(
        index_elements=[PEOPLE.c.user_id],
        set_={
            "language": new.excluded.language,
            "language_chosen": new.excluded.language_chosen,
            "pending": new.excluded.pending,
            "last_seen": new.excluded.last_seen,
            "unreachable_since": None,  # they wrote: they can be reached again
        },
    )
    event = insert(EVENTS).values(
        user_id=bindparam("p_user_id"),
        at=bindparam("p_at"),
        direction="in",
        kind=bindparam("p_kind"),
        language=bindparam("p_language"),
        intent=bindparam("p_intent"),
        confidence=bindparam("p_confidence"),
        text=bindparam("p_text"),
    )
    unanswered = insert(UNANSWERED).values(
        user_id=bindparam("p_user_id"),
        at=bindparam("p_at"),
        language=bindparam("p_language"),
        text=bindparam("p_text"),
    )
    held = update(PROCESSED).where(*_held())
    return HotStatements(
        claim=claim,
        retake=retake,
        claim_state=select(PROCESSED.c.state).where(row),
        state=state,
        person=person,
        event=event,
        unanswered=unanswered,
        renew=held.values(claimed_at=bindparam("p_now")),
        release=held.values(claimed_at=None, owner=None),
        finish=held.values(state=bindparam("p_state")),
    )
