"""Long polling under a database outage or a network failure: the offset stays on the
unhandled update until it is handled, so nothing is lost and the person is answered once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError
from telegram.error import TimedOut

import bot.transport.handlers as handlers
from bot.config import Settings
from bot.content.catalog import Catalog
from bot.conversation import Conversation
from tests.dialog import shown_answer
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import application_for, polling

PERSON = 8_000_001


# Waiting out Telegram (or a simulated outage) is the same on every database engine: SQLite
# only here; the storage tests run each engine.
ONE_ENGINE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


@ONE_ENGINE
def test_an_update_is_not_confirmed_until_it_is_handled(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings
) -> None:
    emulator.user(PERSON, "Jo", language_code="es")
    application = application_for(emulator, conversation, settings)
    handle, failures = conversation.handle, []

    def flaky(incoming):  # type: ignore[no-untyped-def]
        if len(failures) < 2:  # the database is down for the first two attempts
            failures.append(incoming)
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return handle(incoming)

    conversation.handle = flaky  # type: ignore[method-assign]
    with polling(application, conversation):
        sent = emulator.send_text(PERSON, "hola")
        [reply] = emulator.wait_for_messages(PERSON, timeout=20)
    assert reply["text"]
    assert len(failures) == 2
    offsets = [c["params"].get("offset") for c in emulator.calls("getUpdates")]
    update_id = next(
        u["update_id"]
        for u in emulator.updates()["log"]
        if u.get("message", {}).get("message_id") == sent["message_id"]
    )
    # While it failed, every poll asked again from that very update.
    assert offsets.count(update_id) >= 2


@ONE_ENGINE
def test_a_network_failure_while_answering_is_retried_not_lost(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator.user(PERSON + 1, "Ana", language_code="en")
    application = application_for(emulator, conversation, settings)
    send, attempts = handlers.make, []

    async def unreliable(*args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(args)
        if len(attempts) == 1:
            raise TimedOut("the network dropped the request")
        await send(*args, **kwargs)

    monkeypatch.setattr(handlers, "make", unreliable)
    with polling(application, conversation):
        emulator.send_text(PERSON + 1, "what is cbp one")
        [reply] = emulator.wait_for_messages(PERSON + 1, timeout=20)
    assert reply["text"].startswith("CBP One was an app")
    assert len(attempts) == 2


@ONE_ENGINE
def test_a_button_pressed_too_late_for_telegram_still_gets_its_answer(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings, catalog: Catalog
) -> None:
    person = PERSON + 2
    emulator.user(person, "Kim", language_code="en")
    with polling(application_for(emulator, conversation, settings), conversation):
        emulator.send_text(person, "what is cbp one")
        [answer] = emulator.wait_for_messages(person)
    related = catalog.intents["cbp_one_about"].related[0]
    press = emulator.press_button(person, answer, text=catalog.intents[related].title["en"])
    # By the time the bot gets the press, Telegram no longer takes its acknowledgement.
    emulator.bot_api("answerCallbackQuery", callback_query_id=press["id"])
    with polling(application_for(emulator, conversation, settings), conversation):
        [reply] = emulator.wait_for_messages(person)
    assert reply["text"] == shown_answer(related, "en")
    refused = [c for c in emulator.calls("answerCallbackQuery") if not c.get("ok")]
    assert [c["error_code"] for c in refused] == [400]


@ONE_ENGINE
def test_an_update_the_library_cannot_read_is_skipped_and_logged_without_its_text(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.user(PERSON + 2, "Lu", language_code="es")
    application = application_for(emulator, conversation, settings)
    # A poll in an older Bot API shape (no voter counts): the library raises TypeError on it.
    emulator.inject_update(
        {"poll": {"id": "7", "question": "secreto de alguien", "options": [{"text": "sí"}]}}
    )
    with caplog.at_level(logging.INFO), polling(application, conversation):
        emulator.send_text(PERSON + 2, "hola")
        [reply] = emulator.wait_for_messages(PERSON + 2, timeout=20)
    assert reply["text"]
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(skipped) == 1
    assert "poll" in skipped[0].getMessage()
    assert not any("secreto" in r.getMessage() for r in caplog.records)
    assert not any(r.levelno >= logging.CRITICAL for r in caplog.records)
