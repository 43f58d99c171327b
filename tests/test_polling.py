"""Long polling under a database outage: the offset stays on the unhandled update until it is
handled, so nothing is lost; the person is answered once the database is back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

from bot.config import Settings
from bot.conversation import Conversation
from bot.i18n import UiText
from bot.transport.app import build_application
from bot.transport.metrics import Metrics
from bot.transport.polling import Poller
from tests.emulator.client import EmulatorClient, run_emulator

PERSON = 8_000_001


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


def test_an_update_is_not_confirmed_until_it_is_handled(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings
) -> None:
    emulator.user(PERSON, "Jo", language_code="es")
    local = settings.model_copy(update={
        "telegram_bot_token": SecretStr(emulator.token),
        "telegram_api_base_url": emulator.bot_api_url,
        "staff_chat_id": None,
    })  # fmt: skip
    application = build_application(
        local, conversation, UiText(local.locales_dir), Metrics(), updater=False
    )
    handle, failures = conversation.handle, []

    def flaky(incoming):  # type: ignore[no-untyped-def]
        if len(failures) < 2:  # the database is down for the first two attempts
            failures.append(incoming)
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return handle(incoming)

    conversation.handle = flaky  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    poller = Poller(application, conversation, Metrics())

    async def main() -> None:
        async with application:
            polling = asyncio.create_task(poller.run(stop))
            await stop.wait()
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
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
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
        loop.close()


def test_a_network_failure_while_answering_is_retried_not_lost(
    emulator: EmulatorClient,
    conversation: Conversation,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from telegram.error import TimedOut

    import bot.transport.handlers as handlers

    emulator.user(PERSON + 1, "Ana", language_code="en")
    local = settings.model_copy(update={
        "telegram_bot_token": SecretStr(emulator.token),
        "telegram_api_base_url": emulator.bot_api_url,
        "staff_chat_id": None,
    })  # fmt: skip
    application = build_application(
        local, conversation, UiText(local.locales_dir), Metrics(), updater=False
    )
    send, attempts = handlers.send_replies, []

    async def unreliable(*args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(args)
        if len(attempts) == 1:
            raise TimedOut("the network dropped the request")
        await send(*args, **kwargs)

    monkeypatch.setattr(handlers, "send_replies", unreliable)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with application:
            polling = asyncio.create_task(Poller(application, conversation, Metrics()).run(stop))
            await stop.wait()
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        emulator.send_text(PERSON + 1, "what is cbp one")
        [reply] = emulator.wait_for_messages(PERSON + 1, timeout=20)
        assert reply["text"].startswith("CBP One was an app")
        assert len(attempts) == 2
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
        loop.close()
