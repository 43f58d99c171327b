"""Chooses the reader's thresholds on cross-validation folds of the content's own examples.

Each fold trains the classifier on four fifths of the examples (out of scope included) and reads
the fifth it has not seen; the thresholds are then swept over those held-out readings:
- ANSWER_AT and CLOSE_SHARE (answer, or ask "did you mean"): the pair with the best balance of
  in-scope questions answered right and out-of-scope messages left unanswered, the two counted
  per language and the worst language deciding;
- SUGGEST_AT (offer "did you mean", or say "not understood"): the lowest threshold at which a
  "did you mean" list holds the right intent at least half the time (a list that is mostly
  wrong, or offered for out-of-scope messages, is noise the person has to read).
The evaluation sets in tests/data are never read here. Copy the chosen values into
bot/understanding/reader.py (and the curve into the README) when the content changes a lot.

    .venv/bin/python bench/calibrate.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.model_selection import StratifiedKFold  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.content.loader import load_catalog  # noqa: E402
from bot.languages import LANGUAGES  # noqa: E402
from bot.understanding import reader  # noqa: E402
from bot.understanding.classifier import (  # noqa: E402
    OUT_OF_SCOPE,
    IntentClassifier,
    labelled_examples,
)
from bot.understanding.matcher import IntentMatcher, MatchResult  # noqa: E402
from bot.understanding.normalize import Normalizer  # noqa: E402

FOLDS = 5
ANSWER_GRID = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
CLOSE_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SUGGEST_GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


@dataclass(frozen=True)
class Held:
    lang: str
    intent: str | None  # None: out of scope
    match: MatchResult


def held_out_readings() -> list[Held]:
    catalog = load_catalog(Settings(_env_file=None).content_dir)
    normalizer = Normalizer(catalog.lexicons)
    small_talk = {i.id for i in catalog.intents.values() if i.small_talk}
    examples = labelled_examples(catalog)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    held: list[Held] = []
    for number, (train, test) in enumerate(folds.split(examples, [e.intent for e in examples])):
        print(f"fold {number + 1}/{FOLDS}...", file=sys.stderr)
        part = [examples[i] for i in train]
        classifier = IntentClassifier.fit(part, small_talk, normalizer)
        matcher = IntentMatcher(catalog, normalizer, classifier)
        for i in test:
            example = examples[i]
            intent = None if example.intent == OUT_OF_SCOPE else example.intent
            held.append(Held(example.lang, intent, matcher.match(example.text, example.lang)))
    return held


def rates(held: list[Held], small_talk: frozenset[str]) -> dict[str, tuple[float, float]]:
    """Per language: in-scope answered right, out-of-scope left unanswered."""
    right: dict[str, list[bool]] = defaultdict(list)
    refused: dict[str, list[bool]] = defaultdict(list)
    for item in held:
        answered, _ = reader.decide(item.match, small_talk=small_talk)
        if item.intent is None:
            refused[item.lang].append(answered is None)
        else:
            right[item.lang].append(answered == item.intent)
    return {
        lang: (sum(right[lang]) / len(right[lang]), sum(refused[lang]) / len(refused[lang]))
        for lang in LANGUAGES
    }


def suggestion_rates(held: list[Held], small_talk: frozenset[str]) -> tuple[float, float, float]:
    """Among messages not answered: in-scope ones offered their intent, out-of-scope ones
    offered nothing, and the share of "did you mean" lists that hold the right intent."""
    offered, quiet, lists, right_lists = [], [], 0, 0
    for item in held:
        answered, suggestions = reader.decide(item.match, small_talk=small_talk)
        if answered is not None:
            continue
        lists += bool(suggestions)
        if item.intent is None:
            quiet.append(not suggestions)
        else:
            offered.append(item.intent in suggestions)
            right_lists += item.intent in suggestions
    return (
        sum(offered) / max(len(offered), 1),
        sum(quiet) / max(len(quiet), 1),
        right_lists / max(lists, 1),
    )


def worst_balance(table: dict[str, tuple[float, float]]) -> float:
    return min((a + b) / 2 for a, b in table.values())


def main() -> None:
    held = held_out_readings()
    catalog = load_catalog(Settings(_env_file=None).content_dir)
    small_talk = frozenset(i.id for i in catalog.intents.values() if i.small_talk)
    best: tuple[float, float, float] | None = None
    curves: dict[float, list[tuple[float, dict[str, tuple[float, float]]]]] = {}
    for close in CLOSE_GRID:
        reader.CLOSE_SHARE = close
        for answer in ANSWER_GRID:
            reader.ANSWER_AT = answer
            table = rates(held, small_talk)
            curves.setdefault(close, []).append((answer, table))
            score = worst_balance(table)
            if best is None or score > best[0]:
                best = (score, answer, close)
    assert best is not None
    _, answer_at, close_share = best
    print(f"CLOSE_SHARE = {close_share}; ANSWER_AT = {answer_at}\n")
    print("answer at | in-scope answered right / out of scope left unanswered, per language")
    print("          | " + " | ".join(f"{lang:^13}" for lang in LANGUAGES))
    for answer, table in curves[close_share]:
        cells = " | ".join(f"{table[lang][0]:5.1%} {table[lang][1]:6.1%}" for lang in LANGUAGES)
        mark = " <-" if answer == answer_at else ""
        print(f"   {answer:.2f}   | {cells}{mark}")
    reader.ANSWER_AT, reader.CLOSE_SHARE = answer_at, close_share
    print("\nsuggest at | not answered: in-scope offered their intent / out of scope offered "
          "none / lists holding the right intent")  # fmt: skip
    table = {}
    for suggest in SUGGEST_GRID:
        reader.SUGGEST_AT = suggest
        table[suggest] = suggestion_rates(held, small_talk)
    chosen = next((s for s in SUGGEST_GRID if table[s][2] >= 0.5), SUGGEST_GRID[-1])
    for suggest, (offered, quiet, right) in table.items():
        mark = " <-" if suggest == chosen else ""
        print(f"   {suggest:.2f}    | {offered:6.1%} / {quiet:6.1%} / {right:6.1%}{mark}")
    print(f"\nSUGGEST_AT = {chosen}")


if __name__ == "__main__":
    main()
