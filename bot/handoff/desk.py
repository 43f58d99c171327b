"""The help desk's records: tickets and the map of relayed messages, kept in the database so a
restart or a second worker changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.storage.models import ConversationEvent, RelayedMessage, Ticket


class Status(StrEnum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    CLOSED = "closed"


OPEN = (Status.WAITING.value, Status.CLAIMED.value)
_STALE = dt.timedelta(minutes=1)
# New tickets per person are counted over this window (see `Desk.open`).
TICKET_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class TicketView:
    """A ticket as the rest of the bot sees it (never an ORM row)."""

    id: int
    user_id: int
    language: str
    reason: str
    urgent: bool
    status: Status
    operator_name: str | None
    opened_at: dt.datetime
    staff_thread_id: int | None
    staff_header_id: int | None
    pseudonym: str


@dataclass(frozen=True)
class Opened:
    ticket: TicketView
    created: bool  # a new ticket (else the person already had one open, or it reopened)
    escalated: bool  # an open ticket just became urgent (or reopened for an urgent message)
    reopened: bool = False  # over the limit of new tickets: the latest one is open again


@dataclass(frozen=True)
class Claim:
    won: bool
    holder: str | None  # who has it, when this claim lost


@dataclass(frozen=True)
class StaffMessage:
    """A message in the staff group about a person (a relayed copy, an operator's answer)."""

    id: int
    at: dt.datetime


@dataclass(frozen=True)
class Trace:
    """What the staff group holds about one ticket: the ticket (its topic and header) and the
    messages relayed either way, oldest first."""

    ticket: TicketView
    messages: tuple[StaffMessage, ...]


@dataclass(frozen=True)
class PendingRelay:
    id: int
    ticket: TicketView
    person_message_id: int


class Desk:
    """Every ticket operation; each is one transaction, and claims are atomic."""

    def __init__(self, engine: Engine, pseudonym_key: bytes, tickets_per_hour: int = 3) -> None:
        self.database = engine  # for reports read by the staff (/unanswered)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._key = pseudonym_key
        self._tickets_per_hour = tickets_per_hour

    def pseudonym(self, user_id: int) -> str:
        """A stable four-digit alias: operators never see a name, username or phone."""
        digest = hmac.new(self._key, str(user_id).encode(), hashlib.sha256).digest()
        return f"{int.from_bytes(digest[:4], 'big') % 10000:04d}"

    def _view(self, ticket: Ticket) -> TicketView:
        return TicketView(
            id=ticket.id,
            user_id=ticket.user_id,
            language=ticket.language,
            reason=ticket.reason,
            urgent=ticket.urgent,
            status=Status(ticket.status),
            operator_name=ticket.operator_name,
            opened_at=_aware(ticket.opened_at),
            staff_thread_id=ticket.staff_thread_id,
            staff_header_id=ticket.staff_header_id or None,  # 0: being announced
            pseudonym=self.pseudonym(ticket.user_id),
        )

    def open(
        self, user_id: int, language: str, reason: str, urgent: bool, now: dt.datetime
    ) -> Opened:
        """Opens a ticket, or returns the person's open one (made urgent if this is). A
        person who opened `tickets_per_hour` tickets in the last hour gets their latest one
        reopened instead of a new one: no one can flood the staff group with topics, and
        nothing anyone asks (an emergency least of all) is dropped."""
        with self._sessions.begin() as session:
            ticket = session.scalars(
                select(Ticket)
                .where(Ticket.user_id == user_id, Ticket.status.in_(OPEN))
                .with_for_update()
            ).first()
            if ticket is not None:
                escalated = urgent and not ticket.urgent
                if escalated:
                    ticket.urgent, ticket.reason = True, reason
                return Opened(self._view(ticket), created=False, escalated=escalated)
            recent = session.scalars(
                select(Ticket)
                .where(Ticket.user_id == user_id, Ticket.opened_at >= now - TICKET_WINDOW)
                .order_by(Ticket.id.desc())
                .with_for_update()
            ).all()
            if recent and len(recent) >= self._tickets_per_hour:
                _reopen(recent[0], reason, urgent, now)
                session.flush()
                # Danger is announced again even if the old ticket was urgent already.
                return Opened(
                    self._view(recent[0]), created=False, escalated=urgent, reopened=True
                )
            ticket = Ticket(
                user_id=user_id,
                language=language,
                reason=reason,
                urgent=urgent,
                status=Status.WAITING.value,
                opened_at=now,
            )
            session.add(ticket)
            session.flush()
            return Opened(self._view(ticket), created=True, escalated=False)

    def open_ticket_of(self, user_id: int) -> TicketView | None:
        with self._sessions() as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.user_id == user_id, Ticket.status.in_(OPEN))
            ).first()
            return self._view(ticket) if ticket else None

    def get(self, ticket_id: int) -> TicketView | None:
        with self._sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            return self._view(ticket) if ticket else None

    def reserve_announcement(
        self, ticket_id: int, now: dt.datetime, abandoned_before: dt.datetime | None = None
    ) -> bool:
        """Takes the right to announce a ticket in the staff group: exactly one worker (or
        one of the handler and the catch-up loop) posts its header. A reservation older than
        a minute, or made before `abandoned_before` (when the single process started), was
        abandoned by a crash and may be taken again."""
        stale = now - _STALE
        if abandoned_before is not None:
            stale = max(stale, abandoned_before)
        with self._sessions.begin() as session:
            result = session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    or_(
                        Ticket.staff_header_id.is_(None),
                        and_(Ticket.staff_header_id == 0, Ticket.announced_at < stale),
                    ),
                )
                .values(staff_header_id=0, announced_at=now)
            )
            return _rowcount(result) == 1

    def release_announcement(self, ticket_id: int) -> None:
        """The header could not be posted: let a later attempt try again."""
        with self._sessions.begin() as session:
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.staff_header_id == 0)
                .values(staff_header_id=None)
            )

    def place_in_staff_chat(self, ticket_id: int, thread_id: int | None, header_id: int) -> None:
        """Records where the ticket lives in the staff group (its topic, its header)."""
        with self._sessions.begin() as session:
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(staff_thread_id=thread_id, staff_header_id=header_id)
            )

    def claim(
        self, ticket_id: int, operator_id: int, operator_name: str, now: dt.datetime
    ) -> Claim:
        """One operator wins: the update only applies while the ticket is still waiting."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.status == Status.WAITING.value)
                .values(
                    status=Status.CLAIMED.value,
                    operator_id=operator_id,
                    operator_name=operator_name,
                    claimed_at=now,
                )
            )
            if _rowcount(result) == 1:
                return Claim(won=True, holder=None)
            ticket = session.get(Ticket, ticket_id)
            holder = ticket.operator_name if ticket else None
            return Claim(won=False, holder=holder)

    def note_operator_reply(
        self, ticket_id: int, operator_id: int, operator_name: str, now: dt.datetime
    ) -> None:
        """The first reply counts for the wait time; replying to a waiting ticket claims it."""
        self.claim(ticket_id, operator_id, operator_name, now)
        with self._sessions.begin() as session:
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.first_reply_at.is_(None))
                .values(first_reply_at=now)
            )

    def close(self, ticket_id: int, now: dt.datetime) -> TicketView | None:
        """Closes an open ticket; None if it was already closed (two operators, one close)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.status.in_(OPEN))
                .values(status=Status.CLOSED.value, closed_at=now)
            )
            if _rowcount(result) != 1:
                return None
            ticket = session.get(Ticket, ticket_id)
            return self._view(ticket) if ticket else None

    def rate(self, ticket_id: int, user_id: int, rating: str) -> bool:
        """Stores 👍/👎 once, only for the person's own closed ticket."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    Ticket.user_id == user_id,
                    Ticket.status == Status.CLOSED.value,
                    Ticket.rating.is_(None),
                )
                .values(rating=rating)
            )
            return _rowcount(result) == 1

    def by_staff_message(self, thread_id: int | None, reply_to: int | None) -> TicketView | None:
        """The open ticket an operator's message belongs to. In a topic, the topic's ticket
        (a reply to another ticket's header there is still about this one); outside topics,
        the ticket of the header or relayed message it replies to."""
        if thread_id is not None:
            belongs = Ticket.staff_thread_id == thread_id
        elif reply_to is not None:
            relayed = select(RelayedMessage.ticket_id).where(
                RelayedMessage.staff_message_id == reply_to
            )
            belongs = or_(Ticket.staff_header_id == reply_to, Ticket.id.in_(relayed))
        else:
            return None
        with self._sessions() as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.status.in_(OPEN), belongs)
            ).first()
            return self._view(ticket) if ticket else None

    def record_relay(
        self,
        ticket: TicketView,
        direction: str,
        person_message_id: int | None,
        staff_message_id: int | None,
        now: dt.datetime,
    ) -> None:
        """Remembers a relayed message; with no staff message yet, it waits for delivery."""
        with self._sessions.begin() as session:
            session.add(
                RelayedMessage(
                    ticket_id=ticket.id,
                    user_id=ticket.user_id,
                    direction=direction,
                    person_message_id=person_message_id,
                    staff_message_id=staff_message_id,
                    at=now,
                )
            )

    def pending_relays(self) -> list[PendingRelay]:
        """Messages of people that have not reached the staff group yet, oldest first."""
        with self._sessions() as session:
            rows = session.execute(
                select(RelayedMessage, Ticket)
                .join(Ticket, Ticket.id == RelayedMessage.ticket_id)
                .where(
                    RelayedMessage.direction == "in",
                    RelayedMessage.staff_message_id.is_(None),
                    Ticket.status.in_(OPEN),
                )
                .order_by(RelayedMessage.id)
            ).all()
            return [
                PendingRelay(relay.id, self._view(ticket), relay.person_message_id or 0)
                for relay, ticket in rows
            ]

    def mark_delivered(self, relay_id: int, staff_message_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(RelayedMessage)
                .where(RelayedMessage.id == relay_id)
                .values(staff_message_id=staff_message_id)
            )

    def unannounced(self) -> list[TicketView]:
        """Open tickets whose header never reached the staff group."""
        with self._sessions() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(
                    Ticket.status.in_(OPEN),
                    or_(Ticket.staff_header_id.is_(None), Ticket.staff_header_id == 0),
                )
                .order_by(Ticket.id)
            ).all()
            return [self._view(t) for t in tickets]

    def queue(self) -> list[TicketView]:
        """Open tickets: urgent first, then the longest waiting."""
        with self._sessions() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.status.in_(OPEN))
                .order_by(Ticket.urgent.desc(), Ticket.opened_at)
            ).all()
            return [self._view(t) for t in tickets]

    def due_reminders(self, now: dt.datetime, delay: dt.timedelta) -> list[TicketView]:
        """Urgent tickets nobody claimed for `delay` since opening or the last reminder;
        marks them reminded now, so each worker announces each one once."""
        with self._sessions.begin() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(
                    Ticket.status == Status.WAITING.value,
                    Ticket.urgent.is_(True),
                    Ticket.staff_header_id.is_not(None),
                    Ticket.staff_header_id != 0,
                    or_(
                        and_(Ticket.announced_at.is_(None), Ticket.opened_at <= now - delay),
                        Ticket.announced_at <= now - delay,
                    ),
                )
                .with_for_update(skip_locked=True)
            ).all()
            for ticket in tickets:
                ticket.announced_at = now
            return [self._view(t) for t in tickets]

    def traces_of(self, user_id: int) -> list[Trace]:
        """Every ticket of the person with its staff-group messages: what /forget must
        remove from the group too, read before the rows go."""
        with self._sessions() as session:
            tickets = session.scalars(
                select(Ticket).where(Ticket.user_id == user_id).order_by(Ticket.id)
            ).all()
            relays = session.scalars(
                select(RelayedMessage)
                .where(RelayedMessage.user_id == user_id)
                .order_by(RelayedMessage.id)
            ).all()
            messages: dict[int, list[StaffMessage]] = {}
            for relay in relays:
                if relay.staff_message_id is not None:
                    message = StaffMessage(relay.staff_message_id, _aware(relay.at))
                    messages.setdefault(relay.ticket_id, []).append(message)
            return [Trace(self._view(t), tuple(messages.get(t.id, ()))) for t in tickets]

    def recent_intents(self, user_id: int, limit: int = 5) -> list[str]:
        """What the bot understood of the person's last messages, for the operators."""
        with self._sessions() as session:
            intents = session.scalars(
                select(ConversationEvent.intent)
                .where(ConversationEvent.user_id == user_id, ConversationEvent.intent.is_not(None))
                .order_by(ConversationEvent.id.desc())
                .limit(limit)
            ).all()
            return list(dict.fromkeys(i for i in intents if i))

    def recent_texts(self, user_id: int, limit: int = 5) -> list[str]:
        """The person's last messages, oldest first, for the operators' context."""
        with self._sessions() as session:
            texts = session.scalars(
                select(ConversationEvent.text)
                .where(
                    ConversationEvent.user_id == user_id,
                    ConversationEvent.direction == "in",
                    ConversationEvent.text.is_not(None),
                )
                .order_by(ConversationEvent.id.desc())
                .limit(limit)
            ).all()
            return [t for t in reversed(texts) if t]


def _reopen(ticket: Ticket, reason: str, urgent: bool, now: dt.datetime) -> None:
    """Waiting again, for any operator; an urgent reminder counts from now."""
    ticket.status, ticket.closed_at, ticket.announced_at = Status.WAITING.value, None, now
    ticket.operator_id = ticket.operator_name = ticket.claimed_at = None
    if urgent:
        ticket.urgent, ticket.reason = True, reason


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _rowcount(result: object) -> int:
    """Rows an UPDATE changed (typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0))
