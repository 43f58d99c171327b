"""Claims on updates: an update is handled once, a claim is given back whatever stops its
handling (a failure, a cancellation, a bug), and the claim of a worker that died expires, so
Telegram's retry is handled by another worker instead of being skipped as a duplicate."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from telegram import Update

from bot.conversation import Conversation
from bot.storage.store import Store, UpdateClaim
from bot.transport.delivery import Lease, handle_once
from bot.transport.metrics import Metrics

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def test_a_claim_is_done_busy_or_taken_over_once_its_lease_ran_out(store: Store) -> None:
    lease = NOW - 5 * SECOND
    assert store.claim_update(1, "a", NOW, lease) is UpdateClaim.CLAIMED
    assert store.claim_update(1, "b", NOW, lease) is UpdateClaim.BUSY  # "a" is handling it
    assert store.renew_update(1, "a", NOW + 4 * SECOND)
    assert not store.renew_update(1, "b", NOW)
    # "a" died: nobody renews its claim; once older than the lease, another worker takes it.
    later = NOW + 20 * SECOND
    assert store.claim_update(1, "b", later, later - 5 * SECOND) is UpdateClaim.RETAKEN
    assert not store.finish_update(1, "a")  # too late for the dead one
    assert store.claim_update(1, "c", later, later - 5 * SECOND) is UpdateClaim.BUSY
    assert store.finish_update(1, "b")
    assert store.claim_update(1, "c", later + 60 * SECOND, later) is UpdateClaim.DONE
    store.release_update(1, "b")  # a done update is never given back
    assert store.claim_update(1, "c", later, later) is UpdateClaim.DONE


def test_a_released_claim_lets_the_next_delivery_handle_the_update(store: Store) -> None:
    assert store.claim_update(2, "a", NOW, NOW) is UpdateClaim.CLAIMED
    store.release_update(2, "someone else")  # only the holder gives it back
    assert store.claim_update(2, "b", NOW, NOW - SECOND) is UpdateClaim.BUSY
    store.release_update(2, "a")
    assert store.claim_update(2, "b", NOW, NOW - SECOND) is UpdateClaim.RETAKEN


class _Application:
    """Stands for PTB's Application: `process_update` does what the test says."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.started = asyncio.Event()
        self.handled: list[int] = []

    async def process_update(self, update: Update) -> None:
        self.started.set()
        if self.behaviour == "hang":
            await asyncio.Event().wait()
        if self.behaviour == "bug":
            raise RuntimeError("a bug outside the handlers")
        self.handled.append(update.update_id)


def _claim_again(conversation: Conversation, update_id: int) -> UpdateClaim:
    now = dt.datetime.now(dt.UTC)
    stale_before = now - dt.timedelta(minutes=1)
    return conversation.claim_with_state(update_id, "next", now, stale_before, None)[0]


def test_a_cancelled_update_is_given_back_not_skipped_after_the_restart(
    conversation: Conversation,
) -> None:
    application = _Application("hang")

    async def scenario() -> None:
        handling = asyncio.create_task(
            handle_once(application, conversation, Metrics(), Update(31))  # type: ignore[arg-type]
        )
        await application.started.wait()
        handling.cancel()  # a shutdown that could not wait
        with pytest.raises(asyncio.CancelledError):
            await handling

    asyncio.run(scenario())
    assert _claim_again(conversation, 31) is UpdateClaim.RETAKEN


def test_an_update_whose_handling_raised_is_given_back(conversation: Conversation) -> None:
    with pytest.raises(RuntimeError):
        asyncio.run(
            handle_once(_Application("bug"), conversation, Metrics(), Update(32))  # type: ignore[arg-type]
        )
    assert _claim_again(conversation, 32) is UpdateClaim.RETAKEN


def test_a_retry_waits_while_a_live_worker_handles_it_and_is_handled_once_it_died(
    conversation: Conversation,
) -> None:
    application = _Application("answer")
    now = dt.datetime.now(dt.UTC)
    claim, _ = conversation.claim_with_state(33, "worker-1", now, now, None)
    assert claim is UpdateClaim.CLAIMED

    def deliver(lease: Lease) -> bool:
        update = Update(33)
        return asyncio.run(handle_once(application, conversation, Metrics(), update, lease))  # type: ignore[arg-type]

    assert deliver(Lease(seconds=60)) is False  # worker-1 is alive: "try again later" (503)
    assert application.handled == []
    assert deliver(Lease(seconds=60, boot=now + SECOND)) is True  # its run died before ours
    assert application.handled == [33]
    assert deliver(Lease(seconds=60)) is True  # done: skipped
    assert application.handled == [33]
