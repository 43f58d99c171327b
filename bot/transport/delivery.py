"""Handling one update exactly once, whichever way it arrived (webhook or long polling).

The update is claimed in the database first (a retry or a second worker skips it), then
handled; when the database or the network fails on the way, the claim is released and the
caller makes sure the update comes again, with backoff: the webhook answers 503 (Telegram
retries), long polling does not advance.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from weakref import WeakValueDictionary

from sqlalchemy.exc import DBAPIError
from telegram import Update
from telegram.ext import Application

from bot.conversation import Conversation
from bot.transport.handlers import HANDLING_FAILED, RETRY_LATER
from bot.transport.metrics import Metrics

log = logging.getLogger(__name__)


async def handle_once(
    application: Application, conversation: Conversation, metrics: Metrics, update: Update
) -> bool:
    """True when the update is handled (now or before); False when it must come again."""
    started = time.perf_counter()
    try:
        first = conversation.claim_update(update.update_id, dt.datetime.now(dt.UTC))
    except DBAPIError as exc:
        log.error("database unreachable: %s", type(exc.orig).__name__)
        metrics.updates.labels("retry").inc()
        return False
    if not first:
        metrics.updates.labels("duplicate").inc()
        return True
    failed = HANDLING_FAILED.set(False)
    retry = RETRY_LATER.set(True)
    try:
        await application.process_update(update)
        if HANDLING_FAILED.get():
            with contextlib.suppress(DBAPIError):
                conversation.release_update(update.update_id)
            metrics.updates.labels("retry").inc()
            return False
    finally:
        HANDLING_FAILED.reset(failed)
        RETRY_LATER.reset(retry)
    metrics.updates.labels("handled").inc()
    metrics.latency.observe(time.perf_counter() - started)
    return True


class ChatOrder:
    """Many chats at once, but one update at a time per chat, so a person's messages are
    answered in the order they were sent (within one process)."""

    def __init__(self) -> None:
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()

    async def handle(
        self,
        application: Application,
        conversation: Conversation,
        metrics: Metrics,
        update: Update,
    ) -> bool:
        chat = update.effective_chat
        if chat is None:
            return await handle_once(application, conversation, metrics, update)
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat.id] = lock
        async with lock:
            return await handle_once(application, conversation, metrics, update)
