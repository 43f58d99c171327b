"""Long polling that never loses an update: the offset only moves past updates that were
handled, so a database outage makes Telegram hand the same updates over again; a stop waits
for the updates being handled (a bounded time) before it returns. An update the library
cannot read (a shape from another Bot API version) is skipped past, counted and logged by id
and type only: it would otherwise stop the whole batch at every poll, for everyone."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.conversation import Conversation
from bot.transport.delivery import LEASE_SECONDS, ChatOrder, Lease
from bot.transport.metrics import Metrics

log = logging.getLogger(__name__)
POLL_SECONDS = 25
MAX_BACKOFF_SECONDS = 30.0
DRAIN_SECONDS = 10.0
READ_MARGIN_SECONDS = 10.0  # beyond the long poll itself, before a read counts as lost
T = TypeVar("T")


class Poller:
    """getUpdates in a loop; each batch handled concurrently across chats, in order per chat.

    The only process that polls: a claim on an update made before it started was left by a
    previous run (killed), so it takes such updates again at once (see delivery.py)."""

    def __init__(
        self,
        application: Application,
        conversation: Conversation,
        metrics: Metrics,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self._application = application
        self._conversation = conversation
        self._metrics = metrics
        self._drain = drain_seconds
        self._order = ChatOrder(Lease(LEASE_SECONDS, boot=dt.datetime.now(dt.UTC)))
        self.offset: int | None = None  # None: Telegram's first unconfirmed update

    async def run(self, stop: asyncio.Event) -> None:
        """Polls until `stop` is set, then lets the updates being handled finish (up to
        `drain_seconds`; those still running then are cancelled and come again)."""
        backoff = 1.0
        while not stop.is_set():
            try:
                batch = await _unless(stop, self._fetch())
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning(
                    "getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, backoff
                )
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if batch is None:
                break  # stopping
            updates, after = batch
            if not updates:
                if after is not None:  # the whole batch was unreadable: skip past it
                    self.offset = after
                backoff = 1.0
                continue
            handled = await self._handle(stop, updates)
            if handled is None:
                return  # stopped before the batch was done: it comes again on the next run
            failed = [u.update_id for u, ok in zip(updates, handled, strict=True) if not ok]
            if failed:
                # Stay at the first unhandled update: Telegram keeps it and the ones after it
                # (the ones handled meanwhile are skipped as duplicates next time).
                self.offset = min(failed)
                log.warning("%d update(s) not handled; retrying in %.0f s", len(failed), backoff)
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            else:
                self.offset = after
                backoff = 1.0
        await self._confirm()

    async def _fetch(self) -> tuple[list[Update], int | None]:
        """The next updates that can be read, and the offset past the whole batch (None when
        the batch is empty).

        The raw getUpdates answer is read here, one update at a time, because the library's
        `get_updates` parses the batch as a whole: one unreadable update raises for all of
        them, and its CRITICAL log line carries the raw batch, people's messages included."""
        bot = self._application.bot
        raw = await bot._post(  # private, but the one way to the raw batch (see above)
            "getUpdates",
            {"offset": self.offset, "timeout": POLL_SECONDS, "allowed_updates": Update.ALL_TYPES},
            read_timeout=POLL_SECONDS + READ_MARGIN_SECONDS,
        )
        items = raw if isinstance(raw, list) else []
        updates, last = [], None
        for item in items:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int):
                last = update_id if last is None else max(last, update_id)
            try:
                update = Update.de_json(item, bot)
            except Exception as exc:  # any shape the library rejects
                self._skip(update_id, item, exc)
                continue
            if update is None or not isinstance(update_id, int):
                self._skip(update_id, item, None)
                continue
            updates.append(update)
        return updates, None if last is None else last + 1

    def _skip(self, update_id: object, item: object, exc: BaseException | None) -> None:
        kinds = [k for k in item if k != "update_id"] if isinstance(item, dict) else []
        log.warning(
            "update %s (%s) could not be read and is skipped%s",
            update_id if isinstance(update_id, int) else "?",
            ",".join(str(k)[:32] for k in kinds[:3]) or "no content",
            f": {type(exc).__name__}" if exc is not None else "",
        )
        self._metrics.updates.labels("unreadable").inc()

    async def _handle(self, stop: asyncio.Event, updates: list[Update]) -> list[bool] | None:
        """Whether each update was handled; None if a stop could not wait for the batch."""
        batch = asyncio.gather(
            *(
                self._order.handle(self._application, self._conversation, self._metrics, u)
                for u in updates
            ),
            return_exceptions=True,
        )
        stopping = asyncio.ensure_future(stop.wait())
        try:
            first: set[asyncio.Future[Any]] = {batch, stopping}
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            if not batch.done():
                log.info(
                    "stopping: waiting up to %.0f s for %d update(s) being handled",
                    self._drain,
                    len(updates),
                )
                await asyncio.wait({batch}, timeout=self._drain)
        finally:
            stopping.cancel()
            if not batch.done():  # the drain ran out, or this task itself was cancelled
                log.warning("stopping: the updates still being handled are given back")
                batch.cancel()
                await asyncio.shield(asyncio.wait({batch}))
        if batch.cancelled():
            return None
        results = batch.result()
        for result in results:
            if isinstance(result, BaseException):
                log.error("update not handled: %s", type(result).__name__)
        return [result is True for result in results]

    async def _confirm(self) -> None:
        """Tells Telegram which updates were handled, so the next run does not fetch them
        again (they would only be skipped)."""
        if self.offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self._application.bot.get_updates(
                offset=self.offset, timeout=0, limit=1, allowed_updates=Update.ALL_TYPES
            )


async def _unless(stop: asyncio.Event, call: Awaitable[T]) -> T | None:
    """The call's result, or None (the call cancelled) when `stop` is set first."""
    work = asyncio.ensure_future(call)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not work.done():
            work.cancel()
            await asyncio.shield(asyncio.wait({work}))
    return None if work.cancelled() else work.result()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
