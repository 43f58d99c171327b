"""What reaches the engine and what leaves it: plain frozen dataclasses, no transport types."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from bot.languages import Lang


class Command(StrEnum):
    START = "start"
    MENU = "menu"
    LANGUAGE = "language"
    HUMAN = "human"
    FORGET = "forget"
    HELP = "help"
    CANCEL = "cancel"


class MediaKind(StrEnum):
    """Messages the bot cannot read; it says so kindly and shows the menu."""

    VOICE = "voice"
    PHOTO = "photo"
    STICKER = "sticker"
    DOCUMENT = "document"
    VIDEO = "video"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True)
class TextEvent:
    text: str


@dataclass(frozen=True)
class CommandEvent:
    command: Command | None  # None: a command we don't know
    argument: str = ""
    name: str = ""  # as typed, for commands we don't know


@dataclass(frozen=True)
class ButtonEvent:
    data: str


@dataclass(frozen=True)
class LocationEvent:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class MediaEvent:
    kind: MediaKind


Event = TextEvent | CommandEvent | ButtonEvent | LocationEvent | MediaEvent


@dataclass(frozen=True)
class Incoming:
    """One event from one person; `client_language` is what their app says (may be None)."""

    user_id: int
    event: Event
    client_language: str | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    message_id: int | None = None  # the transport's id of the message, to relay it


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class TextReply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    # The label of a "share my location" keyboard button, when the reply asks for one.
    location_button: str | None = None


@dataclass(frozen=True)
class VenueReply:
    """A care center as a map pin; `address` is empty when unknown, never guessed."""

    name: str
    address: str
    latitude: float
    longitude: float
    distance_km: float | None = None


Reply = TextReply | VenueReply


class HandoffReason(StrEnum):
    ASKED = "asked"
    NOT_UNDERSTOOD = "not_understood"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Handoff:
    """The person needs a human; `urgent` when they may be in danger."""

    reason: HandoffReason
    urgent: bool


@dataclass(frozen=True)
class Understanding:
    """What the engine understood of a text message (for storage, reports and --json)."""

    text: str
    language: Lang
    intent: str | None
    confidence: float
    suggestions: tuple[str, ...] = ()


@dataclass
class UserState:
    """What the engine remembers about a person between messages."""

    user_id: int
    language: Lang | None = None
    language_chosen: bool = False  # chosen by the person, not guessed: never overridden
    pending: str | None = None  # a question awaiting an answer, e.g. "confirm_forget"
    in_handoff: bool = False  # a ticket is open: messages go to the operators


@dataclass(frozen=True)
class Outcome:
    """Everything one event produced: replies to send and effects for the service to apply."""

    replies: tuple[Reply, ...]
    state: UserState
    understanding: Understanding | None = None
    handoff: Handoff | None = None
    unanswered: bool = False
    forget: bool = False
    relay: bool = False  # pass the person's message to the operators
    cancel_handoff: bool = False
    rating: tuple[int, str] | None = None  # (ticket id, "up" or "down")
    danger: bool = False  # the replies give the emergency numbers first
