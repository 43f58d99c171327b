"""`migrant-bot check [DIR]`: tells staff exactly what is wrong in the content, or OK."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.config import Settings
from bot.content.loader import inspect_content
from bot.content.problems import errors
from bot.i18n_check import check_catalogs


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument("dir", nargs="?", type=Path, help="content folder (default: content/)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    content_dir = args.dir or settings.content_dir
    _catalog, problems = inspect_content(content_dir)
    problems += check_catalogs(settings.locales_dir)
    for problem in sorted(problems, key=lambda p: (p.file, p.line)):
        print(problem)
    bad = errors(problems)
    if bad:
        print(f"{len(bad)} problem(s) to fix; the bot will not load this content until then.")
        return 1
    print("content OK" + (f" ({len(problems)} warning(s))" if problems else ""))
    return 0
