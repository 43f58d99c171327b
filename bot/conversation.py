"""The service between a transport and the engine: load state, handle, store, apply effects
(a handoff opened or escalated, a message for the operators, a deletion, a rating).

A message is one database transaction: the update's claim (see bot/transport/delivery.py),
the person's state, and the turn's record commit together; the rarer effects (a ticket, a
deletion) follow in their own."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

from bot.dialog.engine import Engine
from bot.dialog.events import (
    ButtonEvent,
    CommandEvent,
    Incoming,
    LocationEvent,
    MediaEvent,
    Outcome,
    Reply,
    TextEvent,
    UserState,
)
from bot.handoff.desk import Desk, StaffMessage, TicketView
from bot.handoff.hours import WorkingHours
from bot.languages import DEFAULT_LANGUAGE, as_language
from bot.live import LiveContent
from bot.storage.store import Store, UpdateClaim

# The person's state as it was read with the claim of the update being handled (see
# `Conversation.claim_with_state`): `handle` uses it rather than reading it again.
CLAIMED_STATE: ContextVar[UserState | None] = ContextVar("claimed_state", default=None)


@dataclass
class PendingClaim:
    """The claim of the update being handled, left to `Conversation.handle` to take in the
    transaction of the turn; `found` says what it found once that committed (None: not taken,
    nothing of the turn was kept)."""

    update_id: int
    owner: str
    now: dt.datetime
    stale_before: dt.datetime
    found: UpdateClaim | None = field(default=None, compare=False)


PENDING_CLAIM: ContextVar[PendingClaim | None] = ContextVar("pending_claim", default=None)


class StaffEventKind(StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    REOPENED = "reopened"  # over the limit of new tickets: the latest one again
    RELAY = "relay"
    CANCELLED = "cancelled"
    FORGOTTEN = "forgotten"


@dataclass(frozen=True)
class StaffEvent:
    """Something the operators must see; the transport carries it to the staff group."""

    kind: StaffEventKind
    ticket: TicketView
    person_message_id: int | None = None
    # FORGOTTEN: the ticket's messages in the staff group, for the transport to delete.
    staff_messages: tuple[StaffMessage, ...] = ()


@dataclass(frozen=True)
class Turn:
    """One handled event: the replies for the person and the events for the operators."""

    outcome: Outcome
    replies: tuple[Reply, ...]
    staff: tuple[StaffEvent, ...] = ()


class Conversation:
    """Runs one event through the engine with the person's stored state."""

    def __init__(
        self,
        content: LiveContent,
        store: Store,
        desk: Desk,
        hours: WorkingHours,
        staff_connected: bool,
        retention_days: int = 30,
    ) -> None:
        self.content = content
        self.desk = desk
        self._store = store
        self._hours = hours
        self._staff_connected = staff_connected
        self._retention_days = retention_days

    def mark_unreachable(self, user_id: int) -> None:
        self._store.mark_unreachable(user_id, dt.datetime.now(dt.UTC))

    def claim_with_state(
        self,
        update_id: int,
        owner: str,
        now: dt.datetime,
        stale_before: dt.datetime,
        user_id: int | None,
    ) -> tuple[UpdateClaim, UserState | None]:
        """The claim and the state of the person the update is from, in one transaction."""
        return self._store.claim_with_state(update_id, owner, now, stale_before, user_id)

    def renew_update(self, update_id: int, owner: str) -> bool:
        return self._store.renew_update(update_id, owner, dt.datetime.now(dt.UTC))

    def finish_updates(
        self, claims: list[tuple[int, str]], failed: set[int] | frozenset[int] = frozenset()
    ) -> set[int]:
        return self._store.finish_updates(claims, failed)

    def release_update(self, update_id: int, owner: str) -> None:
        self._store.release_update(update_id, owner)

    def keep_unsent(self, update_id: int, user_id: int, replies: str) -> None:
        self._store.keep_unsent(update_id, user_id, replies, dt.datetime.now(dt.UTC))

    def unsent(self, update_id: int) -> str | None:
        return self._store.unsent(update_id)

    def drop_unsent(self, update_id: int) -> None:
        self._store.drop_unsent(update_id)

    def ping(self) -> None:
        self._store.ping()

    def purge_old_text(self, now: dt.datetime) -> None:
        """The daily privacy job: message text older than the retention period goes."""
        self._store.purge(now, self._retention_days)

    @property
    def engine(self) -> Engine:
        return self.content.engine

    def state_of(self, user_id: int) -> UserState:
        return self._store.load_state(user_id)

    def handle(self, incoming: Incoming) -> Turn:
        """The turn of one event. When the update's claim is pending (PENDING_CLAIM), it is
        taken in the same transaction; a turn whose update was not claimed (done, another
        worker's, or retaken: see `PendingClaim.found`) has no replies and changed nothing."""
        pending = PENDING_CLAIM.get()
        if pending is not None and pending.found is None:
            return self._claimed_turn(pending, incoming)
        state = CLAIMED_STATE.get()
        if state is None or state.user_id != incoming.user_id:
            state = self._store.load_state(incoming.user_id)
        outcome = self._decide(incoming, state)
        return self._effects(incoming, outcome)

    def _claimed_turn(self, pending: PendingClaim, incoming: Incoming) -> Turn:
        outcome = None
        with self._store.turn(
            pending.update_id, pending.owner, pending.now, pending.stale_before, incoming.user_id
        ) as (found, state):
            if found is UpdateClaim.CLAIMED and state is not None:
                outcome = self._decide(incoming, state)
        pending.found = found  # committed
        if outcome is None:
            return Turn(Outcome((), UserState(incoming.user_id)), ())
        return self._effects(incoming, outcome)

    def _decide(self, incoming: Incoming, state: UserState) -> Outcome:
        """The engine's outcome, recorded (in the turn's transaction when there is one)."""
        engine = self.engine  # one version for the whole event, even during a reload
        outcome = engine.handle(incoming, state, desk_open=self._staff_connected)
        if not outcome.forget:  # what is forgotten is not written first
            event = incoming.event
            text = event.text if isinstance(event, TextEvent) else None
            self._store.record(incoming.user_id, incoming.at, _kind(event), text, outcome)
        return outcome

    def _effects(self, incoming: Incoming, outcome: Outcome) -> Turn:
        """The effects on tickets and the person's data, each its own transaction."""
        event = incoming.event
        replies = outcome.replies
        staff: list[StaffEvent] = []
        if outcome.forget:
            # The staff group's copies go too: their ids are read before the rows are deleted.
            for trace in self.desk.traces_of(incoming.user_id):
                staff.append(
                    StaffEvent(
                        StaffEventKind.FORGOTTEN, trace.ticket, staff_messages=trace.messages
                    )
                )
            self._store.forget(incoming.user_id)
            return Turn(outcome, replies, tuple(staff))
        lang = as_language(outcome.state.language) or DEFAULT_LANGUAGE
        if outcome.cancel_handoff:
            ticket = self.desk.open_ticket_of(incoming.user_id)
            if ticket is not None and self.desk.close(ticket.id, incoming.at):
                staff.append(StaffEvent(StaffEventKind.CANCELLED, ticket))
        if outcome.handoff is not None:
            opened = self.desk.open(
                incoming.user_id,
                lang,
                outcome.handoff.reason.value,
                outcome.handoff.urgent,
                incoming.at,
            )
            if opened.created:
                staff.append(StaffEvent(StaffEventKind.OPENED, opened.ticket))
            elif opened.reopened:  # what the person wrote goes to the reopened topic
                said = incoming.message_id if isinstance(event, TextEvent) else None
                staff.append(StaffEvent(StaffEventKind.REOPENED, opened.ticket, said))
            if opened.created or opened.reopened:
                notice = self._notice(incoming.user_id, lang, opened.ticket.urgent, incoming.at)
                replies = (*replies, notice)
            if opened.escalated:
                staff.append(StaffEvent(StaffEventKind.ESCALATED, opened.ticket))
        if outcome.relay:
            ticket = self.desk.open_ticket_of(incoming.user_id)
            if ticket is not None:
                staff.append(StaffEvent(StaffEventKind.RELAY, ticket, incoming.message_id))
        if outcome.rating is not None:
            self.desk.rate(outcome.rating[0], incoming.user_id, outcome.rating[1])
        return Turn(outcome, replies, tuple(staff))

    def _notice(self, user_id: int, lang: str, urgent: bool, now: dt.datetime) -> Reply:
        opening = self._hours.next_opening(now)
        return self.engine.handoff_notice(
            user_id,
            as_language(lang) or DEFAULT_LANGUAGE,
            urgent=urgent,
            on_duty=self._hours.on_duty(now),
            opening=_when(opening) if opening else None,
            reachable=self._staff_connected,
        )


def _when(moment: dt.datetime) -> str:
    """A day and time everyone can read: 2026-11-30 09:00."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _kind(event: object) -> str:
    kinds = {
        TextEvent: "text",
        CommandEvent: "command",
        ButtonEvent: "button",
        LocationEvent: "location",
        MediaEvent: "media",
    }
    return kinds.get(type(event), "other")
