"""The bot's Application in the test process, talking to the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from pydantic import SecretStr
from telegram.ext import Application

from bot.config import Settings
from bot.conversation import Conversation
from bot.i18n import UiText
from bot.transport.app import build_application
from bot.transport.metrics import Metrics
from bot.transport.polling import Poller
from tests.emulator.client import EmulatorClient


def application_for(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings
) -> Application:
    """An Application without updater or staff group, pointed at the emulator."""
    local = settings.model_copy(update={
        "telegram_bot_token": SecretStr(emulator.token),
        "telegram_api_base_url": emulator.bot_api_url,
        "staff_chat_id": None,
    })  # fmt: skip
    return build_application(
        local, conversation, UiText(local.locales_dir), Metrics(), updater=False
    )


@contextlib.contextmanager
def polling(application: Application, conversation: Conversation) -> Iterator[None]:
    """Runs the bot's own long polling in a background event loop for the `with` block."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with application:
            poller = asyncio.create_task(Poller(application, conversation, Metrics()).run(stop))
            await stop.wait()  # the poller stops by itself, letting what it handles finish
            await asyncio.wait({poller}, timeout=15)
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
        loop.close()
