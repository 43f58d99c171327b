"""`migrant-bot purge`: deletes message text older than RETENTION_DAYS (the bot also does it
daily)."""

from __future__ import annotations

import argparse
import datetime as dt

from bot.config import Settings
from bot.storage.database import make_engine, upgrade
from bot.storage.retention import purge


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    database = make_engine(settings.database_url)
    try:
        upgrade(database)
        purged = purge(database, dt.datetime.now(dt.UTC), settings.retention_days)
    finally:
        database.dispose()
    print(
        f"deleted the text of {purged.event_texts} messages and {purged.unanswered_texts} "
        f"unanswered questions older than {settings.retention_days} days; "
        f"{purged.relayed} relay records of old closed tickets"
    )
    return 0
