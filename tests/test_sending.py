"""Replies reach the person once: flood control is waited out past the rate limiter's own
retries, and when Telegram fails halfway what was not sent waits for the update's retry,
which sends only that (the turn is not handled, nor recorded, again)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from bot.config import Settings
from bot.conversation import Conversation
from bot.transport import replies
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import application_for, polling

PERSON = 8_200_001


# Waiting out Telegram (or a simulated outage) is the same on every database engine: SQLite
# only here; the storage tests run each engine.
ONE_ENGINE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


def _turns(database: Engine, person: int) -> int:
    """How many of the person's messages were handled and recorded."""
    with database.connect() as connection:
        return int(connection.execute(
            text("SELECT COUNT(*) FROM conversation_events "
                 "WHERE user_id = :u AND direction = 'in'"), {"u": person},
        ).scalar_one())  # fmt: skip


def _texts(emulator: EmulatorClient, person: int) -> list[str]:
    return [m["text"] for m in emulator.messages(person) if m["from"]["is_bot"]]


def _polls_from(emulator: EmulatorClient, sent: dict[str, object]) -> int:
    """How many times the bot asked for updates from the one of this sent message: again
    each time it was left for a retry."""
    update_id = next(
        u["update_id"]
        for u in emulator.updates()["log"]
        if u.get("message", {}).get("message_id") == sent["message_id"]
    )
    return [c["params"].get("offset") for c in emulator.calls("getUpdates")].count(update_id)


def _wait_for(emulator: EmulatorClient, person: int, start: str, timeout: float = 30) -> None:
    """Until the bot sent the person a message that starts with `start`."""
    deadline = time.monotonic() + timeout
    while not any(t.startswith(start) for t in _texts(emulator, person)):
        assert time.monotonic() < deadline, f"no message starting {start!r}"
        time.sleep(0.1)


@ONE_ENGINE
def test_flood_control_past_the_limiters_retries_is_waited_out_and_answered_once(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings, database: Engine
) -> None:
    emulator.user(PERSON, "Ana", language_code="en")
    emulator.flood("sendMessage", times=6, retry_after=1)  # the limiter retries 3 times
    with polling(application_for(emulator, conversation, settings), conversation):
        emulator.send_text(PERSON, "what is cbp one")
        [reply] = emulator.wait_for_messages(PERSON, timeout=30)
    assert reply["text"].startswith("CBP One was an app")
    assert _texts(emulator, PERSON) == [reply["text"]]
    assert _turns(database, PERSON) == 1


@ONE_ENGINE
def test_replies_past_the_flood_deadline_wait_for_the_retry_and_are_sent_once(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    database: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replies, "PATIENCE_SECONDS", 1.5)
    emulator.user(PERSON + 1, "Ana", language_code="es")
    with polling(application_for(emulator, conversation, settings), conversation):
        emulator.send_command(PERSON + 1, "start")
        first = emulator.wait_for_messages(PERSON + 1, count=2, timeout=20)
        emulator.flood("sendMessage", times=10, retry_after=1)  # longer than the deadline
        sent = emulator.send_command(PERSON + 1, "start")
        again = emulator.wait_for_messages(PERSON + 1, count=2, timeout=40)
    assert [m["text"] for m in again] == [m["text"] for m in first]
    assert len(_texts(emulator, PERSON + 1)) == 4
    assert _polls_from(emulator, sent) >= 2  # left for the retry
    assert _turns(database, PERSON + 1) == 2


@pytest.mark.parametrize("delivered", [False, True], ids=["failed", "answer lost"])
def test_a_server_error_on_the_second_reply_sends_only_that_one_again(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    database: Engine,
    delivered: bool,
) -> None:
    emulator.user(PERSON + 2, "Ana", language_code="es")
    emulator.fault("sendMessage", times=1, after=1, delivered=delivered)
    with polling(application_for(emulator, conversation, settings), conversation):
        emulator.send_command(PERSON + 2, "start")
        _wait_for(emulator, PERSON + 2, "Elija un tema")  # the menu, after the retry
        emulator.send_text(PERSON + 2, "que es cbp one")  # delivery went on
        _wait_for(emulator, PERSON + 2, "CBP One")
    greeting, menu, *again, answer = _texts(emulator, PERSON + 2)
    # Confirmed by Telegram: never again. Not confirmed: sent again, so it is never missing.
    assert greeting.startswith("Hola") and menu != greeting and answer.startswith("CBP One")
    assert again == ([menu] if delivered else [])
    assert _turns(database, PERSON + 2) == 2
