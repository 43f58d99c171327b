"""Measures understanding on labelled messages: accuracy, fallbacks, language, confusions,
and the safety net (danger recall, false alarms on look-alikes)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.dialog.engine import Engine
from bot.dialog.events import Incoming, TextEvent, UserState
from bot.languages import LANGUAGES
from bot.understanding.language import SHORT_MESSAGE_WORDS
from bot.understanding.normalize import fold


@dataclass(frozen=True)
class Example:
    text: str
    lang: str
    intent: str | None
    danger: bool | None = None  # labelled for the safety net: is this message danger?


@dataclass
class DangerTally:
    """For one language: danger messages that got the numbers first, and look-alikes that
    got them for nothing."""

    danger: int = 0
    caught: int = 0
    look_alikes: int = 0
    false_alarms: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.danger if self.danger else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.look_alikes if self.look_alikes else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "danger": self.danger,
            "recall": round(self.recall, 4),
            "look_alikes": self.look_alikes,
            "false_alarm_rate": round(self.false_alarm_rate, 4),
        }


@dataclass
class Tally:
    """Counts for one language (or all): in-scope hits, fallbacks, language guesses."""

    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    left_unmatched: int = 0
    language_total: int = 0
    language_correct: int = 0
    language_long_total: int = 0
    language_long_correct: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.left_unmatched / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def language_accuracy(self) -> float:
        return self.language_correct / self.language_total if self.language_total else 0.0

    @property
    def language_accuracy_long(self) -> float:
        total = self.language_long_total
        return self.language_long_correct / total if total else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "in_scope": self.in_scope,
            "top1_accuracy": round(self.accuracy, 4),
            "out_of_scope": self.out_of_scope,
            "fallback_rate": round(self.fallback_rate, 4),
            "language_accuracy": round(self.language_accuracy, 4),
            "language_accuracy_3_words": round(self.language_accuracy_long, 4),
            "confusions": [
                {"expected": e, "got": g, "count": n}
                for (e, g), n in self.confusions.most_common(10)
            ],
        }


def read_examples(paths: list[Path]) -> list[Example]:
    """Reads JSON Lines files of {"text", "lang", "intent"}; intent null means out of scope."""
    examples = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                danger = item.get("danger")
                examples.append(
                    Example(
                        item["text"],
                        item["lang"],
                        item.get("intent"),
                        None if danger is None else bool(danger),
                    )
                )
    return examples


def evaluate_danger(
    engine: Engine, examples: list[Example], keep_errors: bool = False
) -> dict[str, DangerTally]:
    """Runs each danger-labelled message as a new person's first message and checks whether
    the reply gives the emergency numbers first."""
    tallies = {lang: DangerTally() for lang in (*LANGUAGES, "all")}
    for example in examples:
        if example.danger is None:
            continue
        outcome = engine.handle(
            Incoming(user_id=0, event=TextEvent(example.text)), UserState(user_id=0)
        )
        wrong = outcome.danger != example.danger
        if keep_errors and wrong:
            label = "missed" if example.danger else "false alarm"
            tallies["all"].errors.append(f"[{example.lang}] {label}: {example.text!r}")
        for tally in (tallies[example.lang], tallies["all"]):
            if example.danger:
                tally.danger += 1
                tally.caught += outcome.danger
            else:
                tally.look_alikes += 1
                tally.false_alarms += outcome.danger
    return tallies


def evaluate(
    engine: Engine, examples: list[Example], keep_errors: bool = False
) -> dict[str, Tally]:
    """Runs each message through the engine as a new person's first message."""
    tallies = {lang: Tally() for lang in (*LANGUAGES, "all")}
    for example in examples:
        if example.danger is not None:
            continue  # a safety-net example: evaluate_danger counts it
        outcome = engine.handle(
            Incoming(user_id=0, event=TextEvent(example.text)), UserState(user_id=0)
        )
        got = outcome.understanding.intent if outcome.understanding else None
        detection = engine.reader.detector.detect(example.text)
        long_enough = len(fold(example.text).split()) >= SHORT_MESSAGE_WORDS
        if keep_errors and got != example.intent:
            score = outcome.understanding.confidence if outcome.understanding else 0.0
            tallies["all"].errors.append(
                f"[{example.lang}] {example.text!r}: expected {example.intent}, got {got} "
                f"({score:.2f})"
            )
        for tally in (tallies[example.lang], tallies["all"]):
            if example.intent is None:
                tally.out_of_scope += 1
                tally.left_unmatched += got is None
                if got is not None:
                    tally.confusions[("(none)", got)] += 1
            else:
                tally.in_scope += 1
                tally.correct += got == example.intent
                if got != example.intent:
                    tally.confusions[(example.intent, got or "(none)")] += 1
            hit = detection is not None and detection.language == example.lang
            tally.language_total += 1
            tally.language_correct += hit
            if long_enough:
                tally.language_long_total += 1
                tally.language_long_correct += hit
    return tallies
