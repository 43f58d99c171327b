"""An update the database refuses must never stall everyone: what could be refused is made
storable first, and what is refused all the same is answered with the apology, marked failed
and passed, while a passing failure is still retried. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from psycopg.errors import NotNullViolation
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.config import Settings
from bot.conversation import Conversation
from bot.i18n import UiText
from bot.reports.stats import usage_stats
from bot.transport.app import build_application
from bot.transport.metrics import Metrics
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import application_for, polling

PERSON, OPERATOR = 8_100_001, 8_100_900
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


def _texts(database: Engine) -> list[str]:
    with database.connect() as connection:
        return list(connection.execute(text("SELECT text FROM conversation_events")).scalars())


def test_a_message_with_a_nul_character_is_answered_once_and_stored_without_it(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings, database: Engine
) -> None:
    emulator.user(PERSON, "Jo", language_code="en")
    with polling(application_for(emulator, conversation, settings), conversation):
        emulator.send_text(PERSON, "what is\x00 cbp one")
        [answer] = emulator.wait_for_messages(PERSON, timeout=20)
        emulator.send_text(PERSON, "hello")
        emulator.wait_for_messages(PERSON, timeout=20)
    assert answer["text"].startswith("CBP One was an app")
    assert "what is cbp one" in _texts(database)


def test_an_operator_with_the_longest_name_telegram_allows_reaches_the_person_once(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings
) -> None:
    emulator.user(PERSON + 1, "Ana", language_code="es")
    emulator.user(OPERATOR, "Á" * 64, last_name="B" * 64, language_code="es")
    staff = int(
        emulator.group(
            "Operadores", members={OPERATOR: "member"}, is_forum=True, bot_status="administrator"
        )["id"]
    )
    local = Settings(
        _env_file=None,
        telegram_bot_token=emulator.token,
        telegram_api_base_url=emulator.bot_api_url,
        staff_chat_id=staff,
        handoff_hours="mon-sun 00:00-24:00",
    )
    application = build_application(
        local, conversation, UiText(local.locales_dir), Metrics(), updater=False
    )
    with polling(application, conversation):
        emulator.send_command(PERSON + 1, "human")
        emulator.wait_for_messages(PERSON + 1, count=2, timeout=20)
        [header] = emulator.wait_for_messages(staff, timeout=20)
        emulator.send_text(
            OPERATOR, "Hola, soy del equipo.", chat_id=staff,
            message_thread_id=header["message_thread_id"],
        )  # fmt: skip
        [relayed] = emulator.wait_for_messages(PERSON + 1, timeout=20)
        emulator.send_text(PERSON + 1, "gracias")  # delivery went on
        emulator.wait_for_messages(staff, timeout=20)
    assert relayed["text"].endswith("Hola, soy del equipo.")
    copies = [m for m in emulator.messages(PERSON + 1) if "soy del equipo" in m.get("text", "")]
    assert len(copies) == 1
    ticket = conversation.desk.open_ticket_of(PERSON + 1)
    assert ticket is not None and ticket.operator_name == "Á" * 64 + " " + "B" * 64


def test_what_the_database_refuses_is_apologised_for_marked_failed_and_passed(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    database: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.user(PERSON + 2, "Jean", language_code="fr")
    handle, refused, dropped = conversation.handle, [], []

    def refusing(incoming):  # type: ignore[no-untyped-def]
        if getattr(incoming.event, "text", "") == "mon secret":
            refused.append(incoming)
            raise IntegrityError("INSERT", {"text": "mon secret"}, NotNullViolation())
        if getattr(incoming.event, "text", "") == "bonjour" and not dropped:
            dropped.append(incoming)  # a passing failure: retried, as before
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return handle(incoming)

    conversation.handle = refusing  # type: ignore[method-assign]
    with (
        caplog.at_level(logging.INFO),
        polling(application_for(emulator, conversation, settings), conversation),
    ):
        emulator.send_text(PERSON + 2, "mon secret")
        [apology] = emulator.wait_for_messages(PERSON + 2, timeout=20)
        emulator.send_text(PERSON + 2, "bonjour")
        [greeting] = emulator.wait_for_messages(PERSON + 2, timeout=20)
    assert apology["text"].startswith("Désolé, un problème est survenu")
    assert not greeting["text"].startswith("Désolé")
    assert len(refused) == 1 and len(dropped) == 1  # refused once, never retried
    assert not any("mon secret" in r.getMessage() for r in caplog.records)
    assert usage_stats(database, NOW - dt.timedelta(days=1)).failed_updates == 1
