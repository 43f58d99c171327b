"""`migrant-bot`: one entry point, a sub-command per chore."""

from __future__ import annotations

import argparse
import sys

from bot.cli import ask, chat, check, console, content, db, evaluate, init, purge, report, run
from bot.config import BadSettings, load_settings
from bot.log_privacy import set_up_logging

COMMANDS = (ask, chat, check, console, content, db, evaluate, init, purge, report, run)


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
    set_up_logging(settings)
    try:
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
