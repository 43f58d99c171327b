"""`migrant-bot chat`: talk to the bot in the terminal, on the same engine and storage.

With `--staff` the terminal is the operators' side too, so a whole handoff can be seen
without Telegram: what the team would see is printed with "[team]", and `/team TEXT`
answers as an operator (`/team close` ends the conversation).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.app import build_conversation, build_engine
from bot.cli.render import render
from bot.config import Settings
from bot.content.loader import ContentError
from bot.conversation import Conversation, StaffEvent, StaffEventKind
from bot.dialog.events import (
    Button,
    ButtonEvent,
    Command,
    CommandEvent,
    Event,
    Incoming,
    LocationEvent,
    Reply,
    TextEvent,
)
from bot.languages import DEFAULT_LANGUAGE, LANGUAGES, as_language
from bot.storage.database import make_engine

TERMINAL_USER = 1
OPERATOR = "Terminal operator"
HELP = (
    "Type a question, or the number of a button. Commands: /start /menu /language /human "
    "/cancel /forget /help, /location LAT LON to share a location, /quit to leave."
)
STAFF_HELP = "As the team: /team TEXT answers the person, /team close ends the conversation."


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument("--user", type=int, default=TERMINAL_USER, help="who you are (an id)")
    parser.add_argument("--lang", choices=LANGUAGES, help="the language of your first message")
    parser.add_argument(
        "--staff",
        action="store_true",
        help="play the operators too: handoffs open here and /team TEXT answers",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    try:
        parts = build_engine(settings, ephemeral_buttons=True)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    staff = bool(getattr(args, "staff", False))
    database = make_engine(settings.database_url)
    try:
        conversation = build_conversation(settings, parts, database, staff=staff)
        return _talk(conversation, args.user, staff, getattr(args, "lang", None))
    finally:
        database.dispose()


def _talk(conversation: Conversation, user: int, staff: bool, lang: str | None) -> int:
    """The terminal session, until /quit or the end of input."""
    print(HELP + (f"\n{STAFF_HELP}" if staff else ""))
    buttons: list[Button] = []
    event: Event | None = CommandEvent(Command.START)
    while True:
        if event is not None:
            turn = conversation.handle(Incoming(user, event, client_language=lang))
            buttons = _show(turn.replies)
            for staff_event in turn.staff:
                _show_to_team(staff_event, event)
        try:
            line = input("> ").strip()
        except EOFError:
            print()
            return 0
        if line in ("/quit", "/exit"):
            return 0
        if staff and line.startswith("/team"):
            buttons = _as_team(conversation, user, line[len("/team") :].strip()) or buttons
            event = None
            continue
        event = parse(line, buttons)
        if event is None:
            print(HELP)


def _show(replies: tuple[Reply, ...]) -> list[Button]:
    text, buttons = render(replies)
    if text:
        print(f"\n{text}\n")
    return buttons


def _show_to_team(staff_event: StaffEvent, event: Event) -> None:
    """What the staff group would show, in one line."""
    ticket = staff_event.ticket
    label = f"#{ticket.id} · {ticket.language.upper()} · Persona {ticket.pseudonym}"
    if staff_event.kind is StaffEventKind.OPENED:
        urgent = "🔴 urgent " if ticket.urgent else ""
        print(f"[team] {urgent}new conversation {label} ({ticket.reason})")
    elif staff_event.kind is StaffEventKind.ESCALATED:
        print(f"[team] 🔴 {label} is now urgent")
    elif staff_event.kind is StaffEventKind.RELAY and isinstance(event, TextEvent):
        print(f"[team] {label}: {event.text}")
    elif staff_event.kind in (StaffEventKind.CANCELLED, StaffEventKind.FORGOTTEN):
        print(f"[team] {label} left the queue ({staff_event.kind.value})")


def _as_team(conversation: Conversation, user_id: int, text: str) -> list[Button] | None:
    """An operator's line: relayed to the person, or the conversation closed."""
    desk = conversation.desk
    ticket = desk.open_ticket_of(user_id)
    if ticket is None:
        print("[team] nobody is waiting for a person")
        return None
    now = dt.datetime.now(dt.UTC)
    lang = as_language(ticket.language) or DEFAULT_LANGUAGE
    if text == "close":
        desk.close(ticket.id, now)
        return _show(conversation.engine.closing_replies(user_id, lang, ticket.id))
    if not text:
        print(STAFF_HELP)
        return None
    desk.note_operator_reply(ticket.id, 0, OPERATOR, now)
    print(f"\n{OPERATOR}: {text}\n")
    return None


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
