"""Benchmark of understanding: speed at 1x, 10x and 100x content, beside a naive baseline.

Prints, for each content size: start-up (content load and index build; the language model's
one-time load apart), questions per second and p50/p99 latency per question on one core, and
peak memory; then the same for the naive baseline, rapidfuzz `process.extractOne` with
`WRatio` over all examples, and both approaches' accuracy on the evaluation set.

Each size runs in its own process, so peak memory is that size's alone. Not a test: figures
depend on the machine. Run with `make bench` (or `.venv/bin/python bench/understanding.py`).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from bot.content.catalog import Catalog  # noqa: E402
from bot.content.loader import load_catalog  # noqa: E402
from bot.languages import LANGUAGES  # noqa: E402
from bot.understanding.evaluation import read_examples  # noqa: E402
from bot.understanding.normalize import fold  # noqa: E402
from bot.understanding.reader import Reader  # noqa: E402

EVAL = sorted((ROOT / "tests" / "data" / "eval").glob("*.jsonl"))
SIZES = (1, 10, 100)
SYLLABLES = "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ta te ti to".split()  # noqa: SIM905


def synthetic(catalog: Catalog, factor: int, seed: int = 7) -> Catalog:
    """The catalog with (factor - 1) synthetic copies of every intent: each copy's examples
    are the originals with a word dropped and two invented words added. The invented words
    come from a pool that grows with the square root of the content (Heaps' law: real
    vocabularies grow about that way), so the index and the vocabulary grow as they would
    with real content rather than with one new word per example."""
    if factor == 1:
        return catalog
    rng = random.Random(seed)
    vocabulary = {w for i in catalog.intents.values() for t in i.examples.values() for e in t
                  for w in e.split()}  # fmt: skip
    pool = sorted({
        "".join(rng.sample(SYLLABLES, 3))
        for _ in range(int(len(vocabulary) * (factor**0.5 - 1)))
    })  # fmt: skip
    intents = dict(catalog.intents)
    for copy in range(1, factor):
        for intent in catalog.intents.values():
            examples = {}
            for lang in LANGUAGES:
                varied = []
                for text in intent.examples[lang]:
                    words = text.split()
                    if len(words) > 2:
                        words.pop(rng.randrange(len(words)))
                    words += [rng.choice(pool) for _ in range(2)]
                    varied.append(" ".join(words))
                examples[lang] = varied
            new_id = f"{intent.id}_s{copy}"
            intents[new_id] = intent.model_copy(update={"id": new_id, "examples": examples})
    return Catalog(intents, catalog.places, catalog.topics, catalog.lexicons, catalog.version)


def baseline_choices(catalog: Catalog) -> tuple[list[tuple[str, str]], list[str]]:
    """Every example, folded, with its intent: what the naive baseline scans."""
    examples = [
        (fold(text), intent.id)
        for intent in catalog.intents.values()
        for lang in LANGUAGES
        for text in intent.examples[lang]
    ]
    return examples, [text for text, _intent in examples]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_size(factor: int) -> dict[str, object]:
    """Measures one content size in this process."""
    questions = [e.text for e in read_examples(EVAL)]
    started = time.perf_counter()
    catalog = synthetic(load_catalog(ROOT / "content"), factor)
    loaded = time.perf_counter()
    reader = Reader(catalog)
    built = time.perf_counter()
    reader.detector.warm_up()
    model = time.perf_counter()
    for text in questions[:20]:  # warm the caches of the first calls
        reader.read(text, None)
    latencies = []
    for text in questions:
        begin = time.perf_counter()
        reader.read(text + " ", None)  # a fresh string: no cached language detection
        latencies.append(time.perf_counter() - begin)
    _examples, choices = baseline_choices(catalog)
    baseline = []
    # The baseline scans every example: at 100x a full pass would take minutes, so larger
    # sizes time it on a sample.
    for text in questions[: max(50, len(questions) // factor)]:
        begin = time.perf_counter()
        process.extractOne(fold(text), choices, scorer=fuzz.WRatio)
        baseline.append(time.perf_counter() - begin)
    return {
        "factor": factor,
        "examples": reader.matcher.example_count,
        "load_s": loaded - started,
        "index_s": built - loaded,
        "language_model_s": model - built,
        "qps": len(latencies) / sum(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "baseline_qps": len(baseline) / sum(baseline),
        "baseline_p50_ms": 1000 * statistics.median(baseline),
        "baseline_p99_ms": 1000 * percentile(baseline, 0.99),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def baseline_accuracy() -> dict[str, float]:
    """Top-1 accuracy of the naive baseline on in-scope evaluation messages, per language
    (it has no notion of "out of scope": it always answers)."""
    catalog = load_catalog(ROOT / "content")
    examples, choices = baseline_choices(catalog)
    result = {}
    for lang in LANGUAGES:
        labelled = [e for e in read_examples(EVAL) if e.lang == lang and e.intent]
        hits = 0
        for example in labelled:
            _text, _score, index = process.extractOne(
                fold(example.text), choices, scorer=fuzz.WRatio
            )
            hits += examples[index][1] == example.intent
        result[lang] = hits / len(labelled)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, help="measure one size (used internally)")
    args = parser.parse_args()
    if args.size:
        print(json.dumps(run_size(args.size)))
        return
    print("content  examples  start-up (load+index)  lang model  q/s     p50     p99    "
          "peak MB | baseline q/s   p50      p99")  # fmt: skip
    for factor in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--size", str(factor)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        r = json.loads(out)
        startup = r["load_s"] + r["index_s"]
        print(
            f"{factor:>4}x  {r['examples']:>9}  {startup:6.2f} s "
            f"({r['load_s']:.2f}+{r['index_s']:.2f})  {r['language_model_s']:7.2f} s  "
            f"{r['qps']:6.0f}  {r['p50_ms']:5.2f}ms {r['p99_ms']:5.2f}ms  {r['peak_mb']:6.0f} | "
            f"{r['baseline_qps']:9.0f}  {r['baseline_p50_ms']:6.2f}ms "
            f"{r['baseline_p99_ms']:7.2f}ms"
        )
    accuracy = baseline_accuracy()
    print("\nbaseline top-1 on in-scope evaluation messages (always answers, no fallback): "
          + ", ".join(f"{lang} {share:.1%}" for lang, share in accuracy.items()))  # fmt: skip
    print("this bot's figures on the same set: migrant-bot eval tests/data/eval/*.jsonl")


if __name__ == "__main__":
    main()
