"""Tables. Store the minimum: these people are vulnerable (see docs/ARCHITECTURE.md, Privacy)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.storage.storable import StorableString, StorableText

OPERATOR_NAME_LENGTH = 129  # Telegram's first and last name, 64 characters each, and a space


class Base(DeclarativeBase):
    pass


class Person(Base):
    """Someone who wrote to the bot: only their chat id, language and when."""

    __tablename__ = "people"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(8))
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    pending: Mapped[str | None] = mapped_column(String(32))
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Set when Telegram says the person blocked the bot: nothing more is sent until they write.
    unreachable_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ConversationEvent(Base):
    """One message in or out, for handoff context and reports; `text` is purged after
    the retention period, the counts stay."""

    __tablename__ = "conversation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.user_id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    kind: Mapped[str] = mapped_column(String(16))  # text, button, command, location, media
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(StorableText)


class UnansweredQuestion(Base):
    """A question the bot could not answer: the content editors' to-do list."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.user_id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str | None] = mapped_column(StorableText)
    # Set when an editor turned the question into an example (the staff console): it leaves
    # the to-do list, and still counts in the figures.
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Ticket(Base):
    """A handoff to a human: who waits, why, since when, who took it, and how it ended."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.user_id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), index=True)  # waiting, claimed, closed
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    operator_name: Mapped[str | None] = mapped_column(StorableString(OPERATOR_NAME_LENGTH))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    announced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    staff_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_header_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[str | None] = mapped_column(String(4))  # up, down


class RelayedMessage(Base):
    """Which staff-group message carries which message of a person, either way; a person's
    message waits here (staff_message_id empty) while the staff group is unreachable."""

    __tablename__ = "relayed_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.user_id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # "in": person -> staff, "out"
    person_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# A processed update's states; "failed": it could not be stored and is never retried.
HANDLING, DONE, FAILED = "handling", "done", "failed"


class ProcessedUpdate(Base):
    """Telegram updates claimed by a worker ("handling") or handled ("done"): a webhook retry
    or a second worker skips a done one; a claim that its worker stopped renewing (it died)
    may be taken again (see bot/transport/delivery.py)."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)  # first seen
    state: Mapped[str] = mapped_column(String(8), default="done", server_default="done")
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # renewed
    owner: Mapped[str | None] = mapped_column(String(32))  # the claim's holder, at random


class UnsentReplies(Base):
    """What an update still had to send when sending failed halfway (Telegram down, flood
    control past its deadline): its retry sends only these, so nobody gets an answer twice
    and the turn is not recorded twice. Kept until the retry, two days at most."""

    __tablename__ = "unsent_replies"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.user_id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    replies: Mapped[str] = mapped_column(StorableText)  # a JSON list of Bot API calls


class ConsoleLoginLink(Base):
    """A one-time sign-in link to the staff console: only its hash is kept, it expires, and
    it works once (`used_at`)."""

    __tablename__ = "console_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    editor: Mapped[str] = mapped_column(StorableString(OPERATOR_NAME_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(Base):
    """A signed-in editor: the cookie carries the session id (signed), the table its hash,
    so signing out (`ended_at`) ends it everywhere."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    editor: Mapped[str] = mapped_column(StorableString(OPERATOR_NAME_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleChange(Base):
    """Every change made from the staff console: who, when, what (never a person's data)."""

    __tablename__ = "console_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    editor: Mapped[str] = mapped_column(StorableString(OPERATOR_NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(StorableText)
