"""`migrant-bot`: one entry point, a sub-command per chore."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli import ask, chat, check, console, content, db, evaluate, purge, report, run
from bot.config import BadSettings, load_settings
from bot.log_privacy import keep_logs_private

COMMANDS = (ask, chat, check, console, content, db, evaluate, purge, report, run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="migrant-bot",
        description="Information bot for migrants in southern Mexico (es, en, fr, ht).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    args = parser.parse_args(argv)
    # Before anything loads (content, language model, database): one line per bad setting.
    try:
        settings = load_settings(needs_token=getattr(args, "needs_token", False))
    except BadSettings as exc:
        for problem in exc.problems:
            print(f"migrant-bot: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    token = settings.telegram_bot_token
    keep_logs_private(token.get_secret_value() if token else None)
    # httpx logs every request URL at INFO, and a Bot API URL holds the token.
    for noisy in ("httpx", "httpcore", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
