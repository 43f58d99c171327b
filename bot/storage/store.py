"""The repository: reads and writes people, events and unanswered questions as plain values."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from bot.dialog.events import Outcome, UserState
from bot.languages import as_language
from bot.storage.models import (
    DONE,
    FAILED,
    HANDLING,
    ConsoleChange,
    ConsoleLoginLink,
    ConsoleSession,
    ConversationEvent,
    Person,
    ProcessedUpdate,
    RelayedMessage,
    SendTurn,
    Ticket,
    UnansweredQuestion,
    UnsentReplies,
)
from bot.storage.retention import Purged, purge

# Every table that holds something about a person; /forget empties each of them.
PERSONAL_TABLES = (
    RelayedMessage, Ticket, ConversationEvent, UnansweredQuestion, UnsentReplies, Person
)  # fmt: skip
# Tables that hold nothing about anyone (a test checks every table is in one list or the other).
NON_PERSONAL_TABLES = (
    ProcessedUpdate, SendTurn, ConsoleLoginLink, ConsoleSession, ConsoleChange
)  # fmt: skip


class UpdateClaim(StrEnum):
    """What `claim_update` found."""

    CLAIMED = "claimed"  # the caller handles the update now, for the first time
    RETAKEN = "retaken"  # the caller handles it again: an earlier attempt failed or died
    DONE = "done"  # handled already: skip it
    BUSY = "busy"  # another worker is handling it (its claim is still renewed): later


class Store:
    """One place that touches the database; returns dataclasses, never ORM rows."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def purge(self, now: dt.datetime, days: int) -> Purged:
        """Deletes message text older than `days` (see bot.storage.retention)."""
        return purge(self._engine, now, days)

    def load_state(self, user_id: int) -> UserState:
        with self._sessions() as session:
            person = session.get(Person, user_id)
            if person is None:
                return UserState(user_id=user_id)
            open_ticket = session.scalar(
                select(Ticket.id).where(
                    Ticket.user_id == user_id, Ticket.status.in_(("waiting", "claimed"))
                )
            )
            return UserState(
                user_id=user_id,
                language=as_language(person.language),
                language_chosen=person.language_chosen,
                pending=person.pending,
                in_handoff=open_ticket is not None,
            )

    def record(
        self,
        user_id: int,
        at: dt.datetime,
        kind: str,
        text: str | None,
        outcome: Outcome,
    ) -> None:
        """Saves the person's state and what was said, in one transaction."""
        state = outcome.state
        understanding = outcome.understanding
        with self._sessions.begin() as session:
            # Two first messages of a person handled at once (two webhook workers) must not
            # collide on the new row: that would be an integrity error, which is for good.
            dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
            new = dialect.insert(Person).values(user_id=user_id, first_seen=at, last_seen=at)
            session.execute(new.on_conflict_do_nothing(index_elements=[Person.user_id]))
            person = session.get_one(Person, user_id)
            person.language = state.language
            person.language_chosen = state.language_chosen
            person.pending = state.pending
            person.last_seen = at
            person.unreachable_since = None  # they wrote: they can be reached again
            session.flush()
            session.add(ConversationEvent(
                user_id=user_id, at=at, direction="in", kind=kind,
                language=understanding.language if understanding else state.language,
                intent=understanding.intent if understanding else None,
                confidence=understanding.confidence if understanding else None,
                text=text,
            ))  # fmt: skip
            if outcome.unanswered and text:
                session.add(UnansweredQuestion(
                    user_id=user_id, at=at, language=state.language or "", text=text
                ))  # fmt: skip

    def mark_unreachable(self, user_id: int, now: dt.datetime) -> None:
        """The person blocked the bot: remembered, so nobody keeps retrying."""
        with self._sessions.begin() as session:
            session.execute(
                update(Person)
                .where(Person.user_id == user_id, Person.unreachable_since.is_(None))
                .values(unreachable_since=now)
            )

    def claim_update(
        self, update_id: int, owner: str, now: dt.datetime, stale_before: dt.datetime
    ) -> UpdateClaim:
        """Claims an update for `owner`: the first to see it gets it, and so does anyone who
        finds an unfinished claim last renewed before `stale_before` (its worker died)."""
        try:
            with self._sessions.begin() as session:
                session.add(ProcessedUpdate(
                    update_id=update_id, at=now, state=HANDLING, claimed_at=now, owner=owner
                ))  # fmt: skip
            return UpdateClaim.CLAIMED
        except IntegrityError:
            pass
        row = ProcessedUpdate.update_id == update_id
        with self._sessions.begin() as session:
            taken = session.execute(
                update(ProcessedUpdate)
                .where(
                    row,
                    ProcessedUpdate.state == HANDLING,
                    or_(
                        ProcessedUpdate.claimed_at.is_(None),
                        ProcessedUpdate.claimed_at < stale_before,
                    ),
                )
                .values(claimed_at=now, owner=owner)
            )
            if _rowcount(taken) == 1:
                return UpdateClaim.RETAKEN
            state = session.scalar(select(ProcessedUpdate.state).where(row))
        # Not done: another worker holds it (or gave it back a moment ago): it comes again.
        return UpdateClaim.DONE if state in (DONE, FAILED) else UpdateClaim.BUSY

    def renew_update(self, update_id: int, owner: str, now: dt.datetime) -> bool:
        """Keeps a claim alive while its update is being handled; False if it was lost."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ProcessedUpdate).where(*self._held(update_id, owner)).values(claimed_at=now)
            )
            return _rowcount(result) == 1

    def finish_update(self, update_id: int, owner: str, failed: bool = False) -> bool:
        """The update was handled (or `failed` for good): nobody handles it again. False if
        the claim was lost meanwhile (it expired and another worker took it)."""
        failures = {update_id} if failed else set()
        return update_id in self.finish_updates([(update_id, owner)], failures)

    def finish_updates(
        self, claims: list[tuple[int, str]], failed: set[int] | frozenset[int] = frozenset()
    ) -> set[int]:
        """`finish_update` for several (update, owner) claims in one commit, those in `failed`
        marked as failed; the updates whose claim was still held."""
        finished = set()
        with self._sessions.begin() as session:
            for update_id, owner in claims:
                state = FAILED if update_id in failed else DONE
                result = session.execute(
                    update(ProcessedUpdate)
                    .where(*self._held(update_id, owner))
                    .values(state=state)
                )
                if _rowcount(result) == 1:
                    finished.add(update_id)
        return finished

    def release_update(self, update_id: int, owner: str) -> None:
        """Handling failed or was interrupted: the next delivery takes the update again
        (`UpdateClaim.RETAKEN`, so it looks for what the failed attempt left unsent)."""
        with self._sessions.begin() as session:
            session.execute(
                update(ProcessedUpdate)
                .where(*self._held(update_id, owner))
                .values(claimed_at=None, owner=None)
            )

    def keep_unsent(self, update_id: int, user_id: int, replies: str, now: dt.datetime) -> None:
        """What an update still has to send (`replies`, opaque here), for its retry."""
        with self._sessions.begin() as session:
            session.merge(
                UnsentReplies(update_id=update_id, user_id=user_id, at=now, replies=replies)
            )

    def unsent(self, update_id: int) -> str | None:
        """What a failed attempt of the update left to send; None if it left nothing."""
        with self._sessions() as session:
            return session.scalar(
                select(UnsentReplies.replies).where(UnsentReplies.update_id == update_id)
            )

    def drop_unsent(self, update_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(UnsentReplies).where(UnsentReplies.update_id == update_id))

    @staticmethod
    def _held(update_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
        return (
            ProcessedUpdate.update_id == update_id,
            ProcessedUpdate.owner == owner,
            ProcessedUpdate.state == HANDLING,
        )

    def ping(self) -> None:
        """Raises if the database cannot be reached."""
        with self._sessions() as session:
            session.execute(select(1))

    def forget(self, user_id: int) -> None:
        """Deletes every row about the person, in every table, in one transaction."""
        with self._sessions.begin() as session:
            for table in PERSONAL_TABLES:
                session.execute(delete(table).where(table.user_id == user_id))

    def session(self) -> Session:
        """A session for tests and reports that need a direct look."""
        return self._sessions()


def _rowcount(result: object) -> int:
    """Rows an UPDATE changed (typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0))
