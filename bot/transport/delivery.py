"""Handling one update exactly once, whichever way it arrived (webhook or long polling).

The update is claimed in the database first, then handled, then marked done. A private
message, the most of them, is claimed in the transaction of its turn (bot/conversation.py:
claim, the person's state and the turn's record commit together); any other update is
claimed on its own before it is handled. A retry or a
second worker skips a done update, and waits (answers "later") while another worker's claim
on it is alive. A claim is alive while its worker renews it: one that died (kill -9, a lost
machine) stops renewing, and after the lease its update may be taken again; the single
long-polling process also takes again any claim made before it started (its previous run).
When handling fails for a passing reason (the database or the network), is cancelled (a
shutdown that could not wait) or raises, the claim is released and the caller makes sure the
update comes again: the webhook answers 503 (Telegram retries), long polling does not advance.
An update the database refuses for good (bot.storage.errors) is not retried: the person got
the apology, the update is marked failed (counted in the staff's report) and delivery moves on.

When sending fails halfway, the replies not sent yet are kept (see handlers.py) and the
retry, which knows it is one (`UpdateClaim.RETAKEN`), sends only them. A person can get a
reply twice only when Telegram did not confirm it (sent again to be sure) or when the
process dies between sending it and marking the update done (one database commit).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from weakref import WeakValueDictionary

from sqlalchemy.exc import DBAPIError
from telegram import Update
from telegram.ext import Application

from bot.conversation import CLAIMED_STATE, PENDING_CLAIM, Conversation, PendingClaim
from bot.dialog.events import UserState
from bot.storage.store import UpdateClaim
from bot.transport.core_thread import in_core
from bot.transport.handlers import HANDLING_FAILED, RETAKEN, RETRY_LATER, UNSTORABLE
from bot.transport.metrics import Metrics

log = logging.getLogger(__name__)
LEASE_SECONDS = 5.0  # renewed every third of that, so only a dead worker loses its claim
# Updates handled at once by one process. A batch of 100 handled all together only makes
# them wait for each other (the core's work shares one interpreter) and opens as many
# connections as replies; a few at a time keep the network and the threads busy, and stay
# within the HTTP pool (bot/transport/app.py).
CONCURRENT_UPDATES = 4
# A claim's owner: this process's random half and a count (os.urandom is a system call,
# slow on some virtual machines, and only needs to make processes unlike one another).
_PROCESS = secrets.token_hex(8)
_CLAIM_NUMBERS = itertools.count()


def _owner() -> str:
    return f"{_PROCESS}{next(_CLAIM_NUMBERS) % 16**16:016x}"


@dataclass(frozen=True)
class Lease:
    """How long a claim holds without being renewed (it is renewed every third of that while
    the update is handled), and, for the one long-polling process, when it started: a claim
    older than that belongs to a previous run that died."""

    seconds: float = LEASE_SECONDS
    boot: dt.datetime | None = None

    def stale_before(self, now: dt.datetime) -> dt.datetime:
        expired = now - dt.timedelta(seconds=self.seconds)
        return max(expired, self.boot) if self.boot is not None else expired


async def handle_once(
    application: Application,
    conversation: Conversation,
    metrics: Metrics,
    update: Update,
    lease: Lease = Lease(),  # frozen: never changed
) -> bool:
    """True when the update is handled (now or before); False when it must come again."""
    started = time.perf_counter()
    owner = _owner()
    update_id = update.update_id
    now = dt.datetime.now(dt.UTC)
    chat = update.effective_chat
    private = chat is not None and chat.type == "private"
    person = update.effective_user if private else None
    asked = PendingClaim(update_id, owner, now, lease.stale_before(now))
    pending = None
    claim, state = UpdateClaim.CLAIMED, None
    if private and update.effective_message is not None and update.callback_query is None:
        pending = asked  # answered by Handlers.on_message: claimed in the transaction of its turn
    else:
        claimed = await _claim(conversation, asked, person.id if person else None, metrics)
        if claimed is None:
            return False
        claim, state = claimed
    if (skipped := _not_ours(claim, metrics)) is not None:
        return skipped
    failed = HANDLING_FAILED.set(False)
    refused = UNSTORABLE.set(False)
    retaken = RETAKEN.set(claim is UpdateClaim.RETAKEN)
    retry = RETRY_LATER.set(True)
    claimed_state = CLAIMED_STATE.set(state)
    pending_claim = PENDING_CLAIM.set(pending)
    keeper = asyncio.create_task(_renew(conversation, update_id, owner, lease.seconds / 3))
    try:
        await application.process_update(update)
        again, unstorable = HANDLING_FAILED.get(), UNSTORABLE.get()
    except BaseException as exc:  # cancelled (a shutdown) or a bug: it must come again
        keeper.cancel()
        if not isinstance(exc, asyncio.CancelledError):
            log.error("update %s interrupted: %s", update_id, type(exc).__name__)
        await _release(conversation, update_id, owner)
        raise
    finally:
        keeper.cancel()
        HANDLING_FAILED.reset(failed)
        UNSTORABLE.reset(refused)
        RETAKEN.reset(retaken)
        RETRY_LATER.reset(retry)
        CLAIMED_STATE.reset(claimed_state)
        PENDING_CLAIM.reset(pending_claim)
    if again:
        await _release(conversation, update_id, owner)
        metrics.updates.labels("retry").inc()
        return False
    if pending is not None:
        found = pending.found
        if found is None:
            # No turn took the claim: there was nothing to answer, or the turn failed for
            # good (its transaction undone) after the person got the apology.
            claimed = await _claim(conversation, pending, None, metrics)
            if claimed is None:
                return False
            found, _ = claimed
        if (skipped := _not_ours(found, metrics)) is not None:
            return skipped
    try:
        if not await _ENDINGS.finish(conversation, update_id, owner, unstorable):
            log.warning("update %s: its claim expired while it was handled", update_id)
    except DBAPIError as exc:  # handled all the same: answering again would double it
        log.error("update %s handled but not marked done: %s", update_id, type(exc.orig).__name__)
    metrics.updates.labels("failed" if unstorable else "handled").inc()
    metrics.latency.observe(time.perf_counter() - started)
    return True


def _not_ours(claim: UpdateClaim, metrics: Metrics) -> bool | None:
    """What `handle_once` returns for an update it must not answer: True when it is done,
    False while another worker holds it; None when it is this worker's to answer."""
    if claim is UpdateClaim.DONE:
        metrics.updates.labels("duplicate").inc()
        return True
    if claim is UpdateClaim.BUSY:
        metrics.updates.labels("busy").inc()
        return False
    return None


async def _claim(
    conversation: Conversation, asked: PendingClaim, user_id: int | None, metrics: Metrics
) -> tuple[UpdateClaim, UserState | None] | None:
    """The claim `asked` for, with the state of `user_id` when given; None if the database
    cannot be reached (the update comes again)."""
    try:
        return await in_core(
            conversation.claim_with_state,
            asked.update_id,
            asked.owner,
            asked.now,
            asked.stale_before,
            user_id,
        )
    except DBAPIError as exc:
        log.error("database unreachable: %s", type(exc.orig).__name__)
        metrics.updates.labels("retry").inc()
        return None


async def _renew(conversation: Conversation, update_id: int, owner: str, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await in_core(conversation.renew_update, update_id, owner)
        except DBAPIError as exc:
            log.warning("claim on update %s not renewed: %s", update_id, type(exc.orig).__name__)


async def _release(conversation: Conversation, update_id: int, owner: str) -> None:
    """Gives the update back; shielded, so a second cancellation does not stop it halfway.
    If the database is down, the claim simply expires."""
    try:
        await asyncio.shield(in_core(conversation.release_update, update_id, owner))
    except DBAPIError as exc:
        log.warning("claim on update %s not released: %s", update_id, type(exc.orig).__name__)


_Ending = tuple[Conversation, int, str, bool, "asyncio.Future[bool]"]
_Ended = tuple["asyncio.Future[bool]", "bool | Exception"]  # done, or why not


class _Endings:
    """Marks handled updates done: all the updates of an event loop waiting at that moment
    in one commit, in the core's thread (so answers sent together, as the rate limiter lets
    them go, are one transaction, and one hand-off to the thread and back, not one each).
    The answer is sent by then, and until this commit a crash would send it again: the
    sooner, the better; the commit waits at most for the turns already queued before it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Ending]] = {}
        self._flushes: set[asyncio.Task[None]] = set()

    async def finish(
        self, conversation: Conversation, update_id: int, owner: str, failed: bool = False
    ) -> bool:
        """True if the update is now done (or `failed`); False if its claim was lost meanwhile."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            waiting = self._waiting.setdefault(loop, [])
            waiting.append((conversation, update_id, owner, failed, done))
            first = len(waiting) == 1
        if first:  # else the commit on its way takes this one too
            flush = loop.create_task(self._flush(loop))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        # Shielded: a shutdown does not stop the mark of an update that was handled.
        return await asyncio.shield(done)

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        for done, result in await in_core(self._commit, loop):
            if done.done():
                continue
            if isinstance(result, Exception):
                done.set_exception(result)
            else:
                done.set_result(result)

    def _commit(self, loop: asyncio.AbstractEventLoop) -> list[_Ended]:
        with self._lock:
            batch = self._waiting.pop(loop, [])
        by_conversation: dict[Conversation, list[_Ending]] = {}
        for ending in batch:
            by_conversation.setdefault(ending[0], []).append(ending)
        results: list[_Ended] = []
        for conversation, endings in by_conversation.items():
            try:
                finished = conversation.finish_updates(
                    [(u, o) for _, u, o, _, _ in endings], {u for _, u, _, f, _ in endings if f}
                )
            except Exception as exc:
                results += [(done, exc) for *_, done in endings]
            else:
                results += [(done, update_id in finished) for _, update_id, *_, done in endings]
        return results


_ENDINGS = _Endings()


class ChatOrder:
    """Several chats at once (`at_once` updates at most), but one update at a time per chat,
    so a person's messages are answered in the order they were sent (within one process)."""

    def __init__(self, lease: Lease | None = None, at_once: int = CONCURRENT_UPDATES) -> None:
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()
        self._slots = asyncio.Semaphore(at_once)
        self.lease = lease or Lease()

    async def handle(
        self,
        application: Application,
        conversation: Conversation,
        metrics: Metrics,
        update: Update,
    ) -> bool:
        chat = update.effective_chat
        if chat is None:
            async with self._slots:
                return await handle_once(application, conversation, metrics, update, self.lease)
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat.id] = lock
        async with lock, self._slots:  # a slot only once it is this update's turn in its chat
            return await handle_once(application, conversation, metrics, update, self.lease)
