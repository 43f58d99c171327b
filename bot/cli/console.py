"""`migrant-bot console`: the staff console in a browser (docs/CONSOLE.md), or a sign-in link."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import Engine as Database

from bot.app import build_engine
from bot.config import Settings
from bot.content.loader import ContentError
from bot.live import LiveContent
from bot.storage.database import make_engine, upgrade


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument(
        "--login-link",
        action="store_true",
        help="print a one-time sign-in link (10 minutes, works once) and exit",
    )
    parser.add_argument(
        "--as",
        dest="editor",
        default="server",
        help="the editor's name the record of changes shows (with --login-link)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    database = make_engine(settings.database_url)
    try:
        return _serve(args, settings, database)
    finally:
        database.dispose()


def _serve(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    upgrade(database)
    if args.login_link:
        from bot.console.auth import issue_login_link

        print(issue_login_link(database, args.editor, settings.console_address()))
        return 0
    import uvicorn

    from bot.console.app import create_app

    try:
        engine = build_engine(settings).engine
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    live = LiveContent(settings, engine, lambda: build_engine(settings).engine)
    app = create_app(settings, database, live)
    print(f"migrant-bot console on {settings.console_address()} (Ctrl-C stops it)")
    uvicorn.run(
        app,
        host=settings.console_host,
        port=settings.console_port,
        proxy_headers=True,
        access_log=False,  # a sign-in link's path is a secret
        log_level=settings.log_level.lower(),
    )
    return 0
