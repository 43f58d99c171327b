"""What a person sees in Telegram when an answer is given: the engine's own replies."""

from __future__ import annotations

import secrets

from bot.content.catalog import Catalog
from bot.dialog.buttons import ButtonSigner
from bot.dialog.engine import Engine
from bot.dialog.events import Command, CommandEvent, Incoming, Outcome, UserState
from bot.i18n import UiText
from bot.languages import Lang


def answer_outcome(
    catalog: Catalog, live: Engine, ui: UiText, intent_id: str, lang: Lang, retention_days: int
) -> Outcome:
    """The replies to someone who asked for `intent_id` in `lang`, from `catalog` (possibly
    an edited copy): the engine answers exactly as it would (notices, caution, review month,
    buttons), as for a link that opens the answer."""
    engine = Engine(
        catalog, live.reader, ui, ButtonSigner(secrets.token_bytes(16)),
        retention_days=retention_days,
    )  # fmt: skip
    state = UserState(user_id=0, language=lang, language_chosen=True)
    incoming = Incoming(user_id=0, event=CommandEvent(Command.START, f"{intent_id}-{lang}"))
    return engine.handle(incoming, state)
