"""`migrant-bot ask`: one question (or a batch) through the full core, nothing stored."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.app import build_engine
from bot.cli.render import as_json, render
from bot.config import Settings
from bot.content.loader import ContentError
from bot.dialog.engine import Engine
from bot.dialog.events import Incoming, TextEvent, UserState
from bot.languages import LANGUAGES, Lang, as_language


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument("text", nargs="*", help="the question")
    parser.add_argument("--lang", choices=LANGUAGES, help="answer in this language")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question")
    parser.add_argument(
        "--batch", type=Path, help='file with one JSON object a line: {"text": ..., "lang": ...}'
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if not args.text and not args.batch:
        print("migrant-bot ask: give a question, or --batch FILE", file=sys.stderr)
        return 2
    try:
        engine = build_engine(settings, ephemeral_buttons=True).engine
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.batch:
        return _batch(engine, args.batch, args.json)
    text = " ".join(args.text)
    result = ask(engine, text, args.lang)
    if args.json:
        print(json.dumps(as_json(text, result), ensure_ascii=False))
    else:
        print(render(result.replies)[0])
    return 0


def ask(engine: Engine, text: str, lang: Lang | None):  # type: ignore[no-untyped-def]
    """Answers `text` as a first message from a new person (or one who chose `lang`)."""
    state = UserState(user_id=0, language=lang, language_chosen=lang is not None)
    return engine.handle(Incoming(user_id=0, event=TextEvent(text)), state)


def _batch(engine: Engine, path: Path, as_json_lines: bool) -> int:
    source = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    with source:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text, lang = str(item["text"]), as_language(item.get("lang"))
            except (ValueError, KeyError, TypeError) as exc:
                print(json.dumps({"line": number, "error": f"bad input line: {exc}"}))
                continue
            outcome = ask(engine, text, lang)
            if as_json_lines:
                print(json.dumps(as_json(text, outcome), ensure_ascii=False))
            else:
                print(render(outcome.replies)[0] + "\n---")
    return 0
