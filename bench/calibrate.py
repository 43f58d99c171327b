"""Fits the confidence calibration on the development set (tests/data/dev).

The matcher's raw score and margin are mapped to a probability that the top intent is right
with a logistic curve, p = 1 / (1 + exp(-(A + B * raw + C * margin))); this script finds A, B
and C by maximum likelihood on the development set (never on the evaluation set, which stays
held out) and prints them with the accuracy and fallback rate each threshold would give. Copy
them into CALIBRATION in bot/understanding/reader.py when the content changes a lot.

    .venv/bin/python bench/calibrate.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_engine  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.understanding.evaluation import read_examples  # noqa: E402
from bot.understanding.matcher import OUT_OF_SCOPE  # noqa: E402
from bot.understanding.reader import confidence_features  # noqa: E402


def fit(points: list[tuple[tuple[float, ...], int]], steps: int = 20000) -> list[float]:
    """Logistic regression by gradient ascent (few points, few features: fast enough)."""
    size = len(points[0][0]) + 1
    weights = [0.0] * size
    rate = 0.5
    for _ in range(steps):
        gradient = [0.0] * size
        for features, y in points:
            x = (1.0, *features)
            p = 1 / (1 + math.exp(-sum(w * v for w, v in zip(weights, x, strict=True))))
            for i, v in enumerate(x):
                gradient[i] += (y - p) * v
        weights = [w + rate * g / len(points) for w, g in zip(weights, gradient, strict=True)]
    return weights


def probability(weights: list[float], features: tuple[float, ...]) -> float:
    x = (1.0, *features)
    return 1 / (1 + math.exp(-sum(w * v for w, v in zip(weights, x, strict=True))))


def main() -> None:
    engine = build_engine(Settings(_env_file=None), ephemeral_buttons=True).engine
    examples = read_examples(sorted((ROOT / "tests" / "data" / "dev").glob("*.jsonl")))
    rows = []
    for example in examples:
        reading = engine.reader.read(example.text, None)
        best = reading.match.best
        features = confidence_features(reading.match)
        refused = best is not None and best.intent == OUT_OF_SCOPE  # never answered
        rows.append((features, int(best is not None and best.intent == example.intent), example,
                     refused))  # fmt: skip
    # The curve decides whether to answer a real intent: fitted on the messages whose best
    # candidate is one (the out-of-scope examples already refuse the others).
    weights = fit([(features, y) for features, y, _e, refused in rows if not refused])
    print("CALIBRATION = (" + ", ".join(f"{w:.3f}" for w in weights) + ")\n")
    print(" answer at   in-scope correct   out-of-scope left unmatched")
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        answered = [
            (y, e)
            for features, y, e, refused in rows
            if not refused and probability(weights, features) >= threshold
        ]
        in_scope = sum(1 for _r, _y, e, _refused in rows if e.intent)
        out_scope = len(rows) - in_scope
        correct = sum(y for y, e in answered if e.intent)
        wrong_oos = sum(1 for _y, e in answered if not e.intent)
        print(f"   {threshold:.2f}     {correct / in_scope:8.1%}          "
              f"{1 - wrong_oos / out_scope:8.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
