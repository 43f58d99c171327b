"""The service between a transport and the engine: load state, handle, store, apply effects."""

from __future__ import annotations

from bot.dialog.engine import Engine
from bot.dialog.events import (
    ButtonEvent,
    CommandEvent,
    Incoming,
    LocationEvent,
    MediaEvent,
    Outcome,
    TextEvent,
    UserState,
)
from bot.storage.store import Store


class Conversation:
    """Runs one event through the engine with the person's stored state."""

    def __init__(self, engine: Engine, store: Store) -> None:
        self.engine = engine
        self._store = store

    def state_of(self, user_id: int) -> UserState:
        return self._store.load_state(user_id)

    def handle(self, incoming: Incoming) -> Outcome:
        state = self._store.load_state(incoming.user_id)
        outcome = self.engine.handle(incoming, state)
        if outcome.forget:
            self._store.forget(incoming.user_id)
            return outcome
        event = incoming.event
        text = event.text if isinstance(event, TextEvent) else None
        self._store.record(incoming.user_id, incoming.at, _kind(event), text, outcome)
        return outcome


def _kind(event: object) -> str:
    kinds = {
        TextEvent: "text",
        CommandEvent: "command",
        ButtonEvent: "button",
        LocationEvent: "location",
        MediaEvent: "media",
    }
    return kinds.get(type(event), "other")
