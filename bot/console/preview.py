"""What a person sees in Telegram when an answer is given: the engine's own replies."""

from __future__ import annotations

import secrets

from bot.content.catalog import Catalog
from bot.dialog.buttons import ButtonSigner
from bot.dialog.engine import Engine
from bot.dialog.events import Command, CommandEvent, Incoming, Outcome, UserState
from bot.i18n import UiText
from bot.languages import Lang


def engine_for(catalog: Catalog, live: Engine, ui: UiText, retention_days: int) -> Engine:
    """An engine on an edited copy of the content, reading with the live one's models (a
    preview shows an answer; it does not need to understand anything new)."""
    return Engine(
        catalog, live.reader, ui, ButtonSigner(secrets.token_bytes(16)),
        retention_days=retention_days,
    )  # fmt: skip


def answer_outcome(engine: Engine, intent_id: str, lang: Lang) -> Outcome:
    """The replies to someone who asked for `intent_id` in `lang`: exactly what the engine
    sends (notices, caution, review month, buttons), as for a link that opens the answer."""
    state = UserState(user_id=0, language=lang, language_chosen=True)
    incoming = Incoming(user_id=0, event=CommandEvent(Command.START, f"{intent_id}-{lang}"))
    return engine.handle(incoming, state)
