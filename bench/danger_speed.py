"""Speed of the safety net beside the rest of understanding, in one run (a benchmark, not a test).

Reads the evaluation set's messages plus long stories made of twelve of them, and prints the
median and p99 time of `DangerDetector.find`, of the learned danger score (look-alikes cut
out, then every window scored) and of `Reader.read` on the same messages.

    .venv/bin/python bench/danger_speed.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_engine  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.understanding import danger_score  # noqa: E402
from bot.understanding.danger import MAX_CHARS, DangerDetector  # noqa: E402
from bot.understanding.model_cache import ModelCache  # noqa: E402


def timed(call, texts: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


def main() -> None:
    settings = Settings()
    engine = build_engine(settings, ephemeral_buttons=True).engine
    detector = DangerDetector(engine.catalog.danger, engine.reader.normalizer)
    cache = ModelCache(settings.model_cache_dir)
    scorer = danger_score.load_or_train(engine.catalog, engine.reader.normalizer, cache)

    def words(text: str) -> list[str]:
        return engine.reader.normalizer.tokens(text, "es", MAX_CHARS)

    texts = [
        json.loads(line)["text"]
        for path in sorted((ROOT / "tests" / "data" / "eval").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts += [" ".join(texts[i : i + 12]) for i in range(0, 200, 12)]
    for name, call in (
        ("danger expressions", detector.find),
        ("danger score", lambda t: scorer.score(detector.without_look_alikes(words(t), "es"))),
        ("reader (language, matcher)", lambda t: engine.reader.read(t, None)),
    ):
        p50, p99 = timed(call, texts)
        print(f"{name:28} p50 {p50:5.2f} ms   p99 {p99:5.2f} ms   ({len(texts)} messages)")


if __name__ == "__main__":
    main()
