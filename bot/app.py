"""Builds the bot's parts from settings; every entry point (CLI, Telegram) starts here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.content.catalog import Catalog
from bot.content.loader import load_catalog
from bot.dialog.buttons import ButtonSigner
from bot.dialog.engine import Engine
from bot.i18n import UiText
from bot.understanding.model_cache import ModelCache
from bot.understanding.reader import Reader

if TYPE_CHECKING:  # the database side is imported only by what uses it (not `ask`)
    from sqlalchemy import Engine as Database

    from bot.conversation import Conversation


@dataclass(frozen=True)
class Parts:
    catalog: Catalog
    engine: Engine


def build_engine(settings: Settings, *, ephemeral_buttons: bool = False) -> Parts:
    """Loads content and catalogs and builds the engine (raises ContentError on bad content).

    `ephemeral_buttons` signs buttons with a random key: fine for a terminal session whose
    buttons never outlive the process.
    """
    catalog = load_catalog(settings.content_dir)
    key = secrets.token_bytes(32) if ephemeral_buttons else settings.button_key()
    cache = ModelCache(settings.model_cache_dir)
    reader = Reader(catalog, cache)
    reader.detector.keep_model_in(cache)
    engine = Engine(
        catalog,
        reader,
        UiText(settings.locales_dir),
        ButtonSigner(key),
        retention_days=settings.retention_days,
    )
    return Parts(catalog, engine)


def build_conversation(
    settings: Settings, parts: Parts, database: Database, staff: bool | None = None
) -> Conversation:
    """The conversation service on a database (migrated to the latest schema first); a
    handoff is possible when a staff group is set (or `staff` says there is another one,
    like the terminal's)."""
    from bot.conversation import Conversation
    from bot.handoff.desk import Desk
    from bot.handoff.hours import WorkingHours
    from bot.live import LiveContent
    from bot.storage.database import upgrade
    from bot.storage.store import Store

    upgrade(database)
    desk = Desk(database, settings.button_key(), settings.tickets_per_hour)
    hours = WorkingHours.parse(settings.handoff_hours, settings.timezone)
    if staff is None:
        staff = settings.staff_chat_id is not None
    return Conversation(
        LiveContent(settings, parts.engine, lambda: build_engine(settings).engine),
        Store(database),
        desk,
        hours,
        staff_connected=staff,
        retention_days=settings.retention_days,
    )
