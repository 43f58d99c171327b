"""`migrant-bot run`: starts the bot on Telegram."""

from __future__ import annotations

import argparse
import sys

from bot.cli import chat
from bot.config import Settings

NO_TOKEN = """\
No Telegram token: set TELEGRAM_BOT_TOKEN (in the environment or in .env).
To get one: open Telegram, talk to @BotFather, send /newbot, choose a name, and copy the
token it gives you. Then: TELEGRAM_BOT_TOKEN=123456:ABC... make run
"""
NOT_YET = """\
The Telegram transport is not built yet (see issue "The bot on Telegram").
Until then, talk to the bot in the terminal: migrant-bot chat
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="start the bot on Telegram")
    parser.add_argument(
        "--chat-without-token",
        action="store_true",
        help="without a token, explain how to get one and open the terminal chat",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        if args.chat_without_token:
            print("Meanwhile, here is the same bot in this terminal.\n", file=sys.stderr)
            return chat.handle(argparse.Namespace(user=chat.TERMINAL_USER), settings)
        return 2
    print(NOT_YET, file=sys.stderr)
    return 2
