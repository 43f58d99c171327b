"""The repository: reads and writes people, events and unanswered questions as plain values."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.dialog.events import Outcome, UserState
from bot.languages import as_language
from bot.storage.models import (
    DONE,
    FAILED,
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
from bot.storage.statements import hot_statements

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
        self._hot = hot_statements(postgresql if engine.dialect.name == "postgresql" else sqlite)
        # The transaction of the turn this thread is in (see `turn`), which `record` joins.
        self._turn = threading.local()

    def purge(self, now: dt.datetime, days: int) -> Purged:
        """Deletes message text older than `days` (see bot.storage.retention)."""
        return purge(self._engine, now, days)

    def load_state(self, user_id: int) -> UserState:
        with self._engine.connect() as connection:
            return self._state(connection, user_id)

    def _state(self, connection: Connection, user_id: int) -> UserState:
        """The person's state, with whether a ticket of theirs is open, in one statement."""
        found = connection.execute(self._hot.state, {"p_user_id": user_id}).first()
        if found is None:
            return UserState(user_id=user_id)
        language, chosen, pending, in_handoff = found
        return UserState(
            user_id=user_id,
            language=as_language(language),
            language_chosen=bool(chosen),
            pending=pending,
            in_handoff=bool(in_handoff),
        )

    def record(
        self,
        user_id: int,
        at: dt.datetime,
        kind: str,
        text: str | None,
        outcome: Outcome,
    ) -> None:
        """Saves the person's state and what was said, in the turn's transaction when this
        thread is in one (see `turn`), else in one of its own (Core statements: this runs for
        every message, and the ORM's unit of work would cost more than the database itself)."""
        state = outcome.state
        understanding = outcome.understanding
        values = {
            "p_user_id": user_id,
            "p_at": at,
            "p_language": state.language,
            "p_language_chosen": state.language_chosen,
            "p_pending": state.pending,
        }
        event = {
            "p_user_id": user_id,
            "p_at": at,
            "p_kind": kind,
            "p_language": understanding.language if understanding else state.language,
            "p_intent": understanding.intent if understanding else None,
            "p_confidence": understanding.confidence if understanding else None,
            "p_text": text,
        }
        with self._transaction() as connection:
            connection.execute(self._hot.person, values)
            connection.execute(self._hot.event, event)
            if outcome.unanswered and text:
                connection.execute(
                    self._hot.unanswered,
                    {"p_user_id": user_id, "p_at": at, "p_language": state.language or "",
                     "p_text": text},
                )  # fmt: skip

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
        return self.claim_with_state(update_id, owner, now, stale_before)[0]

    def claim_with_state(
        self,
        update_id: int,
        owner: str,
        now: dt.datetime,
        stale_before: dt.datetime,
        user_id: int | None = None,
    ) -> tuple[UpdateClaim, UserState | None]:
        """`claim_update`, and, when the caller may handle the update, the state of the
        person it is from (`user_id`), read in the same transaction."""
        with self._engine.begin() as connection:
            return self._claim(connection, update_id, owner, now, stale_before, user_id)

    @contextmanager
    def turn(
        self,
        update_id: int,
        owner: str,
        now: dt.datetime,
        stale_before: dt.datetime,
        user_id: int,
    ) -> Iterator[tuple[UpdateClaim, UserState | None]]:
        """`claim_with_state`, and what the block records (`record`, in the same thread), in
        one transaction: one commit for each message. Nothing of it is kept if the block
        raises. The block must not write through another connection (on SQLite it would
        wait for this transaction's lock)."""
        with self._engine.begin() as connection:
            found = self._claim(connection, update_id, owner, now, stale_before, user_id)
            self._turn.connection = connection
            try:
                yield found
            finally:
                self._turn.connection = None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """The turn's transaction when this thread is in one, else a transaction of its own."""
        held: Connection | None = getattr(self._turn, "connection", None)
        if held is not None:
            yield held
            return
        with self._engine.begin() as connection:
            yield connection

    def _claim(
        self,
        connection: Connection,
        update_id: int,
        owner: str,
        now: dt.datetime,
        stale_before: dt.datetime,
        user_id: int | None,
    ) -> tuple[UpdateClaim, UserState | None]:
        hot = self._hot
        values = {
            "p_update_id": update_id,
            "p_owner": owner,
            "p_now": now,
            "p_stale_before": stale_before,
        }
        if connection.execute(hot.claim, values).first() is not None:  # (rowcount: -1 on psycopg)
            found = UpdateClaim.CLAIMED
        elif _rowcount(connection.execute(hot.retake, values)) == 1:
            found = UpdateClaim.RETAKEN
        else:
            state = connection.scalar(hot.claim_state, values)
            # Not done: another worker holds it (or gave it back a moment ago).
            return (UpdateClaim.DONE if state in (DONE, FAILED) else UpdateClaim.BUSY), None
        return found, None if user_id is None else self._state(connection, user_id)

    def renew_update(self, update_id: int, owner: str, now: dt.datetime) -> bool:
        """Keeps a claim alive while its update is being handled; False if it was lost."""
        with self._engine.begin() as connection:
            result = connection.execute(
                self._hot.renew, {"p_update_id": update_id, "p_owner": owner, "p_now": now}
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
        with self._transaction() as connection:
            return {
                update_id
                for update_id, owner in claims
                if _rowcount(
                    connection.execute(
                        self._hot.finish,
                        {
                            "p_update_id": update_id,
                            "p_owner": owner,
                            "p_state": FAILED if update_id in failed else DONE,
                        },
                    )
                )
                == 1
            }

    def release_update(self, update_id: int, owner: str) -> None:
        """Handling failed or was interrupted: the next delivery takes the update again
        (`UpdateClaim.RETAKEN`, so it looks for what the failed attempt left unsent)."""
        with self._engine.begin() as connection:
            connection.execute(self._hot.release, {"p_update_id": update_id, "p_owner": owner})

    def keep_unsent(self, update_id: int, user_id: int, replies: str, now: dt.datetime) -> None:
        """What an update still has to send (`replies`, opaque here), for its retry."""
        with self._sessions.begin() as session:
            session.merge(
                UnsentReplies(update_id=update_id, user_id=user_id, at=now, replies=replies)
            )

    def unsent(self, update_id: int) -> str | None:
        """What a failed attempt of the update left to send; None if it left nothing."""
        with self._engine.connect() as connection:
            return connection.scalar(
                select(UnsentReplies.replies).where(UnsentReplies.update_id == update_id)
            )

    def drop_unsent(self, update_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(UnsentReplies).where(UnsentReplies.update_id == update_id))

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
