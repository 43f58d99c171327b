"""`migrant-bot chat`: talk to the bot in the terminal, on the same engine and storage."""

from __future__ import annotations

import argparse
import sys

from bot.app import build_conversation, build_engine
from bot.cli.render import render
from bot.config import Settings
from bot.content.loader import ContentError
from bot.dialog.events import (
    Button,
    ButtonEvent,
    Command,
    CommandEvent,
    Event,
    Incoming,
    LocationEvent,
    TextEvent,
)
from bot.storage.database import make_engine

TERMINAL_USER = 1
HELP = (
    "Type a question, or the number of a button. Commands: /start /menu /language /human "
    "/forget /help, /location LAT LON to share a location, /quit to leave."
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="talk to the bot in this terminal")
    parser.add_argument("--user", type=int, default=TERMINAL_USER, help="who you are (an id)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    try:
        parts = build_engine(settings, ephemeral_buttons=True)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    conversation = build_conversation(settings, parts, make_engine(settings.database_url))
    print(HELP)
    buttons: list[Button] = []
    first = CommandEvent(Command.START)
    event: Event | None = first
    while True:
        if event is not None:
            turn = conversation.handle(Incoming(user_id=args.user, event=event))
            text, buttons = render(turn.replies)
            print(f"\n{text}\n")
        try:
            line = input("> ").strip()
        except EOFError:
            print()
            return 0
        if line in ("/quit", "/exit"):
            return 0
        event = parse(line, buttons)
        if event is None:
            print(HELP)


def parse(line: str, buttons: list[Button]) -> Event | None:
    """A typed line as an event: a button number, a command, a location or text."""
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return ButtonEvent(buttons[int(line) - 1].data)
    if line.startswith("/location"):
        parts = line.split()
        try:
            return LocationEvent(float(parts[1]), float(parts[2]))
        except (IndexError, ValueError):
            return None
    if line.startswith("/"):
        name, _, argument = line[1:].partition(" ")
        known = {c.value: c for c in Command}
        return CommandEvent(known.get(name.lower()), argument.strip())
    return TextEvent(line) if line else None
