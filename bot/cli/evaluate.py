"""`migrant-bot eval FILE...`: accuracy of understanding on labelled messages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.app import build_engine
from bot.config import Settings
from bot.content.loader import ContentError
from bot.understanding.evaluation import (
    DangerTally,
    Tally,
    evaluate,
    evaluate_danger,
    read_examples,
)


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        help='lines of {"text","lang","intent"}, or {"text","lang","danger"} for the safety net',
    )
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
    if any(e.danger is not None for e in examples):
        return _danger(engine, examples, args)
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


def _danger(engine, examples, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    tallies = evaluate_danger(engine, examples, keep_errors=args.errors)
    if args.json:
        print(json.dumps({k: t.as_dict() for k, t in tallies.items() if t.danger}))
        return 0
    print(f"{'':6}{'danger recall':>15}{'n':>5}{'false alarms':>14}{'n':>5}")
    for name, tally in tallies.items():
        if tally.danger or tally.look_alikes:
            print(_danger_row(name, tally))
    if args.errors:
        print("\nWrong:")
        for line in tallies["all"].errors:
            print("  " + line)
    return 0


def _danger_row(name: str, t: DangerTally) -> str:
    return f"{name:6}{t.recall:15.1%}{t.danger:5}{t.false_alarm_rate:14.1%}{t.look_alikes:5}"


def _row(name: str, t: Tally) -> str:
    return (
        f"{name:6}{t.accuracy:8.1%}{t.in_scope:6}{t.fallback_rate:10.1%}{t.out_of_scope:5}"
        f"{t.language_accuracy:8.1%}{t.language_accuracy_long:9.1%}"
    )
