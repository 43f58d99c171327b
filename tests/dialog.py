"""A tiny test driver: talk to the engine like a person, keep the state between turns."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from bot.app import build_engine
from bot.config import Settings
from bot.dialog.engine import Engine
from bot.dialog.events import (
    Button,
    ButtonEvent,
    Command,
    CommandEvent,
    Event,
    Incoming,
    LocationEvent,
    Outcome,
    TextEvent,
    TextReply,
    UserState,
)
from bot.languages import as_language


@dataclass
class Person:
    engine: Engine
    user_id: int = 42
    client_language: str | None = None
    desk_open: bool = True  # a staff group can take handoffs
    state: UserState = field(init=False)
    last: Outcome | None = None

    def __post_init__(self) -> None:
        self.state = UserState(user_id=self.user_id)

    def send(self, event: Event) -> Outcome:
        incoming = Incoming(self.user_id, event, self.client_language)
        self.last = self.engine.handle(incoming, self.state, desk_open=self.desk_open)
        self.state = self.last.state
        return self.last

    def says(self, text: str) -> Outcome:
        return self.send(TextEvent(text))

    def command(self, command: Command | None, argument: str = "") -> Outcome:
        return self.send(CommandEvent(command, argument))

    def shares_location(self, latitude: float, longitude: float) -> Outcome:
        return self.send(LocationEvent(latitude, longitude))

    def presses(self, label_part: str) -> Outcome:
        return self.send(ButtonEvent(self.button(label_part).data))

    def button(self, label_part: str) -> Button:
        assert self.last is not None
        for button in buttons(self.last):
            if label_part in button.label:
                return button
        raise AssertionError(
            f"no button {label_part!r} in {[b.label for b in buttons(self.last)]}"
        )


def buttons(outcome: Outcome) -> list[Button]:
    return [
        b for r in outcome.replies if isinstance(r, TextReply) for row in r.buttons for b in row
    ]


def texts(outcome: Outcome) -> list[str]:
    return [r.text for r in outcome.replies if isinstance(r, TextReply)]


@functools.cache
def _shipped_engine() -> Engine:
    settings = Settings(_env_file=None, database_url="sqlite://", button_secret="test-secret")
    return build_engine(settings).engine


def shown_answer(intent_id: str, lang: str) -> str:
    """An answer of the shipped content as the person reads it (with its review line)."""
    text = _shipped_engine().answer_text(intent_id, as_language(lang) or "es")
    assert text is not None, intent_id
    return text
