"""Background work survives failures: the staff catch-up keeps running after a database
error (a new ticket still reaches the staff group), and a failed daily purge is tried again
within minutes; the logs say what failed, never what anyone wrote."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

import bot.transport.app as transport_app
from bot.config import Settings
from bot.conversation import Conversation
from bot.dialog.events import Command, CommandEvent, Incoming
from bot.i18n import UiText
from bot.transport.app import build_application
from bot.transport.metrics import Metrics
from tests.emulator.client import EmulatorClient, run_emulator

PERSON, OPERATOR = 8_100_001, 8_100_002
SECRET_WORDS = "mi secreto que nadie debe leer"


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


def _outage(what: str) -> OperationalError:
    """What SQLAlchemy raises when the database goes away, with a person's words inside."""
    return OperationalError(f"UPDATE {what}", {"text": SECRET_WORDS}, Exception("locked"))


def test_the_staff_catch_up_survives_a_database_error_and_announces_the_next_ticket(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.user(OPERATOR, "Ana", language_code="es")
    emulator.user(PERSON, "Rose", language_code="es")
    group = emulator.group("Ops", members=[OPERATOR], is_forum=True, bot_status="administrator")
    local = settings.model_copy(update={
        "telegram_bot_token": SecretStr(emulator.token),
        "telegram_api_base_url": emulator.bot_api_url,
        "staff_chat_id": group["id"],
        "staff_catch_up_seconds": 0.2,
    })  # fmt: skip
    desk = conversation.desk
    unannounced, failures = desk.unannounced, []

    def flaky():  # type: ignore[no-untyped-def]
        if not failures:  # the database is locked once, in the middle of a round
            failures.append(time.monotonic())
            raise _outage("tickets")
        return unannounced()

    monkeypatch.setattr(desk, "unannounced", flaky)
    application = build_application(local, conversation, UiText(local.locales_dir), Metrics())

    async def scenario() -> list[dict]:
        async with application:
            assert application.post_init and application.post_shutdown
            await application.post_init(application)
            try:
                while not failures:
                    await asyncio.sleep(0.05)
                # After the error: a ticket opened now only reaches the group by the catch-up.
                conversation.handle(Incoming(PERSON, CommandEvent(Command.START), "es"))
                desk.open(PERSON, "es", "asked", False, dt.datetime.now(dt.UTC))
                return await asyncio.to_thread(emulator.wait_for_messages, group["id"], 1, 10)
            finally:
                await application.post_shutdown(application)

    [header] = asyncio.run(scenario())
    assert header["text"].startswith("🟢 #")
    assert "staff catch-up failed (OperationalError" in caplog.text
    assert SECRET_WORDS not in caplog.text


def test_a_failed_daily_purge_is_tried_again_within_minutes(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert transport_app.PURGE_RETRY_SECONDS <= 600
    monkeypatch.setattr(transport_app, "PURGE_RETRY_SECONDS", 0.1)  # minutes, made short
    purge, runs = conversation.purge_old_text, []

    def flaky(now):  # type: ignore[no-untyped-def]
        runs.append(now)
        if len(runs) == 1:
            raise _outage("conversation_events")
        purge(now)

    monkeypatch.setattr(conversation, "purge_old_text", flaky)
    local = settings.model_copy(update={
        "telegram_bot_token": SecretStr(emulator.token),
        "telegram_api_base_url": emulator.bot_api_url,
        "staff_chat_id": None,
    })  # fmt: skip
    application = build_application(local, conversation, UiText(local.locales_dir), Metrics())

    async def scenario() -> None:
        async with application:
            assert application.post_init and application.post_shutdown
            await application.post_init(application)
            deadline = time.monotonic() + 5
            while len(runs) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await application.post_shutdown(application)

    asyncio.run(scenario())
    assert len(runs) == 2, "the purge was not tried again soon"
    assert "daily purge of old message text failed (OperationalError" in caplog.text
    assert SECRET_WORDS not in caplog.text
