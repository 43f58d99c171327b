"""`migrant-bot init DIR`: lays out a home folder for an installed bot (its `.env`, a copy
of the content to edit, the data folder), for MIGRANT_BOT_HOME=DIR."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bot.config import HOME_VARIABLE, PROJECT_ROOT, SHIPPED, Settings


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument("folder", type=Path, help="the folder, e.g. /var/lib/migrant-bot")
    parser.set_defaults(handler=handle)


def _shipped(name: str, source_name: str) -> Path:
    """The copy the wheel ships, or the source checkout's."""
    return SHIPPED / name if (SHIPPED / name).exists() else PROJECT_ROOT / source_name


def handle(args: argparse.Namespace, settings: Settings) -> int:
    folder: Path = args.folder.expanduser().resolve()
    (folder / "data").mkdir(parents=True, exist_ok=True)
    made = []
    content = folder / "content"
    if not content.exists():
        shutil.copytree(settings.content_dir, content)
        made.append("content/")
    env = folder / ".env"
    if not env.exists():
        shutil.copy2(_shipped("env.example", ".env.example"), env)
        env.chmod(0o600)  # it will hold the token
        made.append(".env")
    print(f"{folder}: " + (", ".join(made) + " laid out" if made else "already laid out"))
    print(f"Next: put TELEGRAM_BOT_TOKEN in {env}, then {HOME_VARIABLE}={folder} migrant-bot run")
    return 0
