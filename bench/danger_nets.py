"""What each net of the safety policy is worth, and where the danger score's thresholds come
from (a benchmark, not a test).

Reads the danger sets (tests/data/danger, danger-dev to danger-dev5; never the held-out ones)
once, then asks the safety policy with each net alone and together: danger recall and false
alarms on look-alikes, per language, and how many ordinary questions (tests/data/dev, every
intent but the urgent ones, and out of scope) raise the alarm. With --curve it prints the
figures on every development set for each setting of the thresholds (URGENT_AT, SCORE_AT when
nothing else is answered, SCORE_ANSWERED_AT when another intent is), and the one chosen by the
rule of `choose` (its bounds on danger-dev, danger-dev2 and danger-dev3; its ranking on all
five development sets).

    .venv/bin/python bench/danger_nets.py [--curve]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_engine  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.content.catalog import Catalog  # noqa: E402
from bot.dialog.safety import Nets, SafetyPolicy  # noqa: E402
from bot.languages import LANGUAGES  # noqa: E402
from bot.understanding.evaluation import Example, read_examples  # noqa: E402
from bot.understanding.reader import Reader, Reading  # noqa: E402

SETS = ("danger", "danger-dev", "danger-dev2", "danger-dev3", "danger-dev4", "danger-dev5")
TUNING = ("danger-dev", "danger-dev2", "danger-dev3")  # the only sets thresholds are chosen on
# Recall a setting must keep in every language of every tuning set: danger-dev3 has one
# message in 42 that no setting catches ("mon fils est pas rentré depuis hier...").
MIN_RECALL = 0.975
MAX_FALSE = 0.10  # the target for false alarms on look-alikes
# Before the score: the expressions, and runner-up urgent intents from 0.3.
BEFORE = Nets(score=False, urgent_at=0.3)
CONFIGURATIONS = {
    "expressions only": Nets(classifier=False, score=False),
    "classifier only": Nets(expressions=False, score=False),
    "score only": Nets(expressions=False, classifier=False),
    "before the score (runner-ups from 0.3)": BEFORE,
    "expressions + classifier": Nets(score=False),
    "expressions + score": Nets(classifier=False),
    "all three": Nets(),
}
URGENT_GRID = (0.3, 0.4, 0.5, 0.6, None)  # None: only an urgent intent the reader answers
# From 0.5 a long ordinary story alarms (tests/test_danger_score.py): 0.6 at least.
FREE_GRID = (0.6, 0.7, 0.8)
ANSWERED_GRID = (0.7, 0.75, 0.8, 0.85, 0.9, 1.01)  # 1.01: never when another intent is answered

Read = list[tuple[Example, Reading]]


def rates(policy: SafetyPolicy, read: Read, lang: str) -> tuple[float, float, int]:
    """Recall, false-alarm rate and danger messages caught, in one language."""
    mine = [(e, r) for e, r in read if e.lang == lang]
    danger = [raised(policy, e, r) for e, r in mine if e.danger]
    alike = [raised(policy, e, r) for e, r in mine if not e.danger]
    recall = sum(danger) / len(danger) if danger else 0.0
    return recall, sum(alike) / len(alike) if alike else 0.0, sum(danger)


def raised(policy: SafetyPolicy, example: Example, reading: Reading) -> bool:
    """Whether the policy gives this message the numbers, as the engine asks it."""
    return (
        policy.assess(example.text, policy.without_look_alikes(example.text, reading)) is not None
    )


def alarms(policy: SafetyPolicy, read: Read) -> str:
    """Recall / false alarms per language, as "es 97.5/6.7  en ..."."""
    cells = []
    for lang in LANGUAGES:
        recall, false, _caught = rates(policy, read, lang)
        cells.append(f"{lang} {100 * recall:5.1f}/{100 * false:4.1f}")
    return "  ".join(cells)


def ordinary_alarms(policy: SafetyPolicy, read: Read) -> str:
    """The share of ordinary questions that raise the alarm, per language, as "es 3.3  en ..."."""
    cells = []
    for lang in LANGUAGES:
        mine = [raised(policy, e, r) for e, r in read if e.lang == lang]
        cells.append(f"{lang} {100 * sum(mine) / len(mine):4.1f}")
    return "  ".join(cells)


def choose(catalog: Catalog, reader: Reader, sets: dict[str, Read]) -> None:
    """The rule the thresholds are chosen by. Within it: every language of the tuning sets
    keeps MIN_RECALL and at most MAX_FALSE false alarms. Among those settings, since
    danger-dev5: the most danger caught by the whole policy on every development set, then
    the fewest false alarms there (summed over sets and languages), then the most danger the
    learned nets catch on the tuning sets (without the expressions, which were written from
    these sets). Until danger-dev5 only that last criterion counted, and the fourth and fifth
    sets were not looked at; until the look-alikes of December the rule left nothing, and the
    one used was "no more false alarms than before the score"."""
    print("\nthresholds (urgent intent, score, score when another intent is answered); * = within"
          " the rule on", " and ".join(TUNING))  # fmt: skip
    best: tuple[int, float, int, tuple[float | None, float, float]] | None = None
    for urgent in URGENT_GRID:
        for free in FREE_GRID:
            for answered in (a for a in ANSWERED_GRID if a >= free):
                nets = Nets(urgent_at=urgent, score_at=free, score_answered_at=answered)
                policy = SafetyPolicy(catalog, reader, nets)
                learned = SafetyPolicy(catalog, reader, replace(nets, expressions=False))
                tuned = [rates(policy, sets[n], lang) for n in TUNING for lang in LANGUAGES]
                allowed = all(r >= MIN_RECALL and f <= MAX_FALSE for r, f, _ in tuned)
                every = [rates(policy, sets[n], lang) for n in SETS[1:] for lang in LANGUAGES]
                caught = sum(c for _, _, c in every)
                false = sum(f for _, f, _ in every)
                by_learned = sum(
                    rates(learned, sets[n], lang)[2] for n in TUNING for lang in LANGUAGES
                )
                cells = "   ".join(f"{n}: {alarms(policy, sets[n])}" for n in SETS[1:])
                mark = "*" if allowed else " "
                shown = "  off" if urgent is None else f"{urgent:5.2f}"
                print(f" {mark}{shown} {free:4.2f} {answered:4.2f} caught {caught:3} "
                      f"learned {by_learned:3} {cells}")  # fmt: skip
                key = (caught, -false, by_learned)
                if allowed and (best is None or key > best[:3]):
                    best = (*key, (urgent, free, answered))
    print("chosen:", best[3] if best else "none within the rule")


def main() -> None:
    parts = build_engine(Settings(), ephemeral_buttons=True)
    catalog, reader = parts.catalog, parts.engine.reader
    sets: dict[str, Read] = {}
    for name in SETS:
        examples = read_examples(sorted((ROOT / "tests" / "data" / name).glob("*.jsonl")))
        sets[name] = [(e, reader.read(e.text, None)) for e in examples if e.danger is not None]
    urgent = {i.id for i in catalog.intents.values() if i.urgent}
    questions = read_examples(sorted((ROOT / "tests" / "data" / "dev").glob("*.jsonl")))
    ordinary = [(e, reader.read(e.text, None)) for e in questions if e.intent not in urgent]
    print("recall / false alarms on look-alikes, per language (%)")
    for label, nets in CONFIGURATIONS.items():
        policy = SafetyPolicy(catalog, reader, nets)
        print(f"\n{label}")
        for name, read in sets.items():
            print(f"  {name:12} {alarms(policy, read)}")
        print(f"  {'ordinary':12} {ordinary_alarms(policy, ordinary)} (alarms, %)")
    if "--curve" in sys.argv:
        choose(catalog, reader, sets)


if __name__ == "__main__":
    main()
