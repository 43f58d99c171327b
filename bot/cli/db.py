"""`migrant-bot db upgrade`: brings the database schema to the latest migration."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.storage.database import make_engine, upgrade


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply all migrations").set_defaults(handler=handle_upgrade)


def handle_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    database = make_engine(settings.database_url)
    try:
        upgrade(database)
    finally:
        database.dispose()
    print("database schema is up to date")
    return 0
