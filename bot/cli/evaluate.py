"""`migrant-bot eval FILE...`: accuracy of understanding on labelled messages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.app import build_engine
from bot.config import Settings
from bot.content.loader import ContentError
from bot.understanding.evaluation import Tally, evaluate, read_examples


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="measure understanding on labelled JSON Lines files")
    parser.add_argument("files", nargs="+", type=Path, help='lines of {"text","lang","intent"}')
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--errors", action="store_true", help="list every wrong answer")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = build_engine(settings, ephemeral_buttons=True).engine
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    examples = read_examples(args.files)
    tallies = evaluate(engine, examples, keep_errors=args.errors)
    if args.json:
        print(json.dumps({k: t.as_dict() for k, t in tallies.items() if t.language_total}))
        return 0
    print(f"{'':6}{'top-1':>8}{'n':>6}{'fallback':>10}{'n':>5}{'lang':>8}{'lang≥3w':>9}")
    for name, tally in tallies.items():
        if tally.language_total:
            print(_row(name, tally))
    print("\nMost frequent confusions (expected -> got):")
    for (expected, got), count in tallies["all"].confusions.most_common(12):
        print(f"  {count:3}  {expected} -> {got}")
    if args.errors:
        print("\nWrong answers:")
        for line in tallies["all"].errors:
            print("  " + line)
    return 0


def _row(name: str, t: Tally) -> str:
    return (
        f"{name:6}{t.accuracy:8.1%}{t.in_scope:6}{t.fallback_rate:10.1%}{t.out_of_scope:5}"
        f"{t.language_accuracy:8.1%}{t.language_accuracy_long:9.1%}"
    )
