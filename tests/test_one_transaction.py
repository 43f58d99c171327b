"""A private message costs the database one transaction: the update's claim, the person's
state and the turn's record commit together (then the batched "done" mark)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, text

from bot.config import Settings
from bot.conversation import Conversation
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import application_for, polling

PERSON = 8_300_001


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


class _Transactions:
    """The statements the engine ran, grouped by the transaction they committed in."""

    def __init__(self, database: Engine) -> None:
        self.committed: list[list[str]] = []
        self._open: dict[int, list[str]] = {}
        event.listen(database, "before_cursor_execute", self._statement)
        event.listen(database, "commit", self._commit)
        event.listen(database, "rollback", self._rollback)

    def _statement(self, connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        self._open.setdefault(id(connection), []).append(" ".join(statement.split()[:3]))

    def _commit(self, connection) -> None:  # type: ignore[no-untyped-def]
        self.committed.append(self._open.pop(id(connection), []))

    def _rollback(self, connection) -> None:  # type: ignore[no-untyped-def]
        self._open.pop(id(connection), None)


def _done(database: Engine) -> bool:
    with database.connect() as connection:
        states = connection.execute(text("SELECT state FROM processed_updates")).scalars()
        found = list(states)
    return bool(found) and all(state == "done" for state in found)


def test_a_private_message_is_claimed_and_recorded_in_one_commit(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings, database: Engine
) -> None:
    emulator.user(PERSON, "Ana", language_code="es")
    transactions = _Transactions(database)
    with polling(application_for(emulator, conversation, settings), conversation):
        emulator.send_text(PERSON, "donde queda el centro de tapachula")
        emulator.wait_for_messages(PERSON, timeout=20)
        deadline = time.monotonic() + 10
        while not _done(database) and time.monotonic() < deadline:
            time.sleep(0.05)
    writes = [t for t in transactions.committed if any(s.startswith("INSERT") for s in t)]
    [turn] = writes  # the claim, the person's state and the record: one transaction
    assert turn[0].startswith("INSERT INTO processed_updates")
    assert any(s.startswith("SELECT people.language") for s in turn)
    assert any(s.startswith("INSERT INTO people") for s in turn)
    assert any(s.startswith("INSERT INTO conversation_events") for s in turn)
    # Besides it, only the update's "done" mark (and renewals of a slow turn's claim).
    others = [t for t in transactions.committed if t and t is not turn]
    assert others and all(all(s.startswith("UPDATE processed_updates") for s in t) for t in others)
