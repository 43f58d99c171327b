"""Long polling that never loses an update: the offset only moves past updates that were
handled, so a database outage makes Telegram hand the same updates over again."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.conversation import Conversation
from bot.transport.delivery import ChatOrder
from bot.transport.metrics import Metrics

log = logging.getLogger(__name__)
POLL_SECONDS = 25
MAX_BACKOFF_SECONDS = 30.0


class Poller:
    """getUpdates in a loop; each batch handled concurrently across chats, in order per chat."""

    def __init__(
        self, application: Application, conversation: Conversation, metrics: Metrics
    ) -> None:
        self._application = application
        self._conversation = conversation
        self._metrics = metrics
        self._order = ChatOrder()
        self.offset: int | None = None  # None: Telegram's first unconfirmed update

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                updates = await self._application.bot.get_updates(
                    offset=self.offset, timeout=POLL_SECONDS, allowed_updates=Update.ALL_TYPES
                )
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning(
                    "getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, backoff
                )
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not updates:
                backoff = 1.0
                continue
            handled = await asyncio.gather(
                *(
                    self._order.handle(self._application, self._conversation, self._metrics, u)
                    for u in updates
                )
            )
            failed = [u.update_id for u, ok in zip(updates, handled, strict=True) if not ok]
            if failed:
                # Stay at the first unhandled update: Telegram keeps it and the ones after it
                # (the ones handled meanwhile are skipped as duplicates next time).
                self.offset = min(failed)
                log.warning("%d update(s) not handled; retrying in %.0f s", len(failed), backoff)
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            else:
                self.offset = updates[-1].update_id + 1
                backoff = 1.0


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
