"""Run a python-telegram-bot ``Application`` against the emulator from synchronous tests.

The application polls in a background thread with its own event loop, so a test can block on
``EmulatorClient.wait_for_messages`` without starving the bot (which it would if both shared
one loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from telegram.ext import Application, ApplicationBuilder

from .client import EmulatorClient

T = TypeVar("T")


def application_builder(emulator: EmulatorClient) -> ApplicationBuilder:  # type: ignore[type-arg]
    """An ApplicationBuilder already pointed at the emulator (add handlers, then build)."""
    return (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(emulator.bot_api_url)
        .base_file_url(emulator.file_url)
    )


class BackgroundApplication:
    """Context manager: initialize, start polling, and on exit stop and shut down cleanly."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        poll_timeout: int = 5,
        startup_timeout: float = 15.0,
    ) -> None:
        self.application = application
        self._poll_timeout = poll_timeout
        self._startup_timeout = startup_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> BackgroundApplication:
        self._thread.start()
        try:
            self.run(self._start(), timeout=self._startup_timeout)
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.run(self._stop(), timeout=self._startup_timeout)
        finally:
            self._close_loop()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        """Run a coroutine (e.g. ``app.bot.send_message(...)``) on the application's loop."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        assert app.updater is not None, "build the application with an Updater"
        await app.updater.start_polling(poll_interval=0.0, timeout=self._poll_timeout)
        await app.start()

    async def _stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
