"""`migrant-bot`: one entry point, a sub-command per chore."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each sub-command's module and one line of help. Only the module of the command given is
# imported (`--help` imports none): the bot's models and database are not loaded to list them.
COMMANDS = {
    "ask": ("ask", "ask one question (or --batch FILE) and print the answer"),
    "chat": ("chat", "talk to the bot in this terminal"),
    "check": ("check", "validate content and translation catalogs"),
    "console": (
        "console",
        "serve the staff console on CONSOLE_HOST:CONSOLE_PORT (docs/CONSOLE.md)",
    ),
    "content": ("content", "inspect the loaded content"),
    "db": ("db", "database maintenance"),
    "eval": ("evaluate", "measure understanding on labelled JSON Lines files"),
    "init": ("init", "lay out a home folder: .env, an editable copy of the content, data/"),
    "purge": ("purge", "delete message text older than RETENTION_DAYS"),
    "report": ("report", "reports for staff: unanswered questions, usage"),
    "run": ("run", "start the bot on Telegram (long polling)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="migrant-bot",
        description="Information bot for migrants in southern Mexico (es, en, fr, ht).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    words = sys.argv[1:] if argv is None else argv
    given = next((w for w in words if not w.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if name == given:
            importlib.import_module(f"bot.cli.{module}").register(command)
    args = parser.parse_args(argv)
    from bot.config import BadSettings, load_settings
    from bot.log_privacy import set_up_logging

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
