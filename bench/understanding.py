"""Benchmark of understanding: the trained classifier beside its anchors, on the same messages.

Contenders, all trained on (or scanning) the same content examples:
- model:     this bot's reader (bot/understanding: the trained classifier and its extras);
- handbuilt: the hand-built matcher it replaced (bench/anchors/handbuilt_matcher.py);
- tfidf+lr:  a plain TF-IDF (words, character 2-5-grams) + LogisticRegression on the examples
             and out_of_scope.yaml, no extras, answering when its probability is >= 0.5;
- rapidfuzz: naive `process.extractOne(WRatio)` over every example; it always answers.

Accuracy, per evaluation set and language: ranking top-1 (in-scope messages whose intent is
ranked first), in-scope answered right (not a "did you mean"), out of scope left unanswered.
Speed, per content size (1x and 10x, each in its own process, so peak memory is that size's):
training, start-up with a cold and a warm model cache, p50/p99 per question, peak memory.
`--ablation` retrains with each extra switched off in turn.

Not a test: figures depend on the machine. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402

from bench.anchors import handbuilt_matcher  # noqa: E402
from bot.content.catalog import Catalog  # noqa: E402
from bot.content.loader import load_catalog  # noqa: E402
from bot.languages import LANGUAGES  # noqa: E402
from bot.understanding.classifier import OUT_OF_SCOPE, Extras, labelled_examples  # noqa: E402
from bot.understanding.evaluation import Example, read_examples  # noqa: E402
from bot.understanding.model_cache import ModelCache  # noqa: E402
from bot.understanding.normalize import Normalizer, fold  # noqa: E402
from bot.understanding.reader import Reader  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = ("eval", "hard", "dev", "hard-dev")
SIZES = (1, 10)
SYLLABLES = "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ta te ti to".split()  # noqa: SIM905

# What a contender says of a message: the intent it ranks first (None: out of scope) and the
# one it answers (None: it does not answer).
Guess = tuple[str | None, str | None]


def synthetic(catalog: Catalog, factor: int, seed: int = 7) -> Catalog:
    """The catalog with (factor - 1) synthetic copies of every intent: each copy's examples
    are the originals with a word dropped and two invented words added, from a pool that
    grows with the square root of the content (Heaps' law), so the vocabulary grows as real
    content would."""
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
    return dataclasses.replace(catalog, intents=intents)


# -- the contenders ------------------------------------------------------------------------


def model_contender(reader: Reader) -> Callable[[str], Guess]:
    def guess(text: str) -> Guess:
        reading = reader.read(text, None)
        best = reading.match.best
        top = best.intent if best and best.intent != OUT_OF_SCOPE else None
        return top, reading.intent

    return guess


def handbuilt_contender(catalog: Catalog, reader: Reader) -> Callable[[str], Guess]:
    matcher = handbuilt_matcher.IntentMatcher(catalog, Normalizer(catalog.lexicons))

    def guess(text: str) -> Guess:
        detection = reader.detector.detect(text)
        match = matcher.match(text, detection.language if detection else None)
        best = match.best
        top = best.intent if best and best.intent != handbuilt_matcher.OUT_OF_SCOPE else None
        return top, handbuilt_matcher.answer(match)

    return guess


def tfidf_lr_contender(catalog: Catalog) -> Callable[[str], Guess]:
    examples = labelled_examples(catalog)
    pipeline = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=20, class_weight="balanced", max_iter=2000),
    )
    pipeline.fit([fold(e.text) for e in examples], [e.intent for e in examples])
    classes = pipeline.classes_

    def guess(text: str) -> Guess:
        probabilities = pipeline.predict_proba([fold(text)])[0]
        best = int(np.argmax(probabilities))
        top = None if classes[best] == OUT_OF_SCOPE else str(classes[best])
        return top, top if probabilities[best] >= 0.5 else None

    return guess


def rapidfuzz_contender(catalog: Catalog) -> Callable[[str], Guess]:
    examples = labelled_examples(catalog, Extras(out_of_scope=False))
    choices = [fold(e.text) for e in examples]

    def guess(text: str) -> Guess:
        found = process.extractOne(fold(text), choices, scorer=fuzz.WRatio)
        top = examples[found[2]].intent if found else None
        return top, top

    return guess


# -- accuracy ------------------------------------------------------------------------------


def scores(guess: Callable[[str], Guess], examples: list[Example]) -> dict[str, tuple[float, ...]]:
    """Per language: ranking top-1, in-scope answered right, out of scope unanswered."""
    result = {}
    for lang in LANGUAGES:
        ranked, answered, refused, in_scope, out_scope = 0, 0, 0, 0, 0
        for example in (e for e in examples if e.lang == lang and e.danger is None):
            top, answer = guess(example.text)
            if example.intent is None:
                out_scope += 1
                refused += answer is None
            else:
                in_scope += 1
                ranked += top == example.intent
                answered += answer == example.intent
        result[lang] = (ranked / in_scope, answered / in_scope, refused / max(out_scope, 1))
    return result


def accuracy_tables() -> None:
    catalog = load_catalog(ROOT / "content")
    reader = Reader(catalog, ModelCache(ROOT / "data" / "models"))
    contenders = {
        "model": model_contender(reader),
        "handbuilt": handbuilt_contender(catalog, reader),
        "tfidf+lr": tfidf_lr_contender(catalog),
        "rapidfuzz": rapidfuzz_contender(catalog),
    }
    for name in SETS:
        examples = read_examples(sorted((DATA / name).glob("*.jsonl")))
        print(f"\n{name}: ranking top-1 / in-scope answered right / out of scope unanswered")
        print(f"{'':10}" + "".join(f"{lang:^22}" for lang in LANGUAGES))
        for contender, guess in contenders.items():
            table = scores(guess, examples)
            print(f"{contender:10}" + "".join(
                "  " + " ".join(f"{v:5.1%}" for v in table[lang]) for lang in LANGUAGES
            ))  # fmt: skip


def ablation_table() -> None:
    """Each extra switched off in turn, retrained, on the report sets (all languages)."""
    catalog = load_catalog(ROOT / "content")
    variants: dict[str, Callable[[], Reader]] = {
        "all extras": lambda: Reader(catalog),
        "no typo correction": lambda: Reader(catalog, extras=Extras(typo_correction=False)),
        "no lexicons": lambda: Reader(dataclasses.replace(catalog, lexicons={})),
        "no place entities": lambda: Reader(catalog, places=False),
        "no small-talk composition": lambda: Reader(catalog, extras=Extras(small_talk=False)),
        "no unknown-word marker": lambda: Reader(catalog, extras=Extras(unknown_words=False)),
        "no out-of-scope class": lambda: Reader(catalog, extras=Extras(out_of_scope=False)),
    }
    sets = {name: read_examples(sorted((DATA / name).glob("*.jsonl"))) for name in SETS[:2]}
    print("\nablation: in-scope answered right / out of scope unanswered, worst language "
          "and all languages")  # fmt: skip
    print(f"{'':28}" + "".join(f"{name:^36}" for name in sets))
    for variant, build in variants.items():
        guess = model_contender(build())
        cells = []
        for examples in sets.values():
            table = scores(guess, examples)
            worst = (min(t[1] for t in table.values()), min(t[2] for t in table.values()))
            every = tuple(statistics.mean(t[i] for t in table.values()) for i in (1, 2))
            cells.append(f"worst {worst[0]:5.1%} {worst[1]:5.1%}  all {every[0]:5.1%} "
                         f"{every[1]:5.1%}")  # fmt: skip
        print(f"{variant:28}" + "  ".join(cells))


# -- speed ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(guess: Callable[[str], object], questions: list[str]) -> tuple[float, float]:
    for text in questions[:20]:
        guess(text)
    latencies = []
    for text in questions:
        begin = time.perf_counter()
        guess(text + " ")  # a fresh string: no cached language detection
        latencies.append(time.perf_counter() - begin)
    return 1000 * statistics.median(latencies), 1000 * percentile(latencies, 0.99)


def run_size(factor: int) -> dict[str, object]:
    """Measures one content size in this process."""
    questions = [e.text for e in read_examples(sorted((DATA / "eval").glob("*.jsonl")))]
    with tempfile.TemporaryDirectory() as folder:
        cache = ModelCache(Path(folder))
        started = time.perf_counter()
        catalog = synthetic(load_catalog(ROOT / "content"), factor)
        Reader(catalog, cache)  # trains and stores the model
        cold = time.perf_counter() - started
        started = time.perf_counter()
        reader = Reader(synthetic(load_catalog(ROOT / "content"), factor), cache)
        warm = time.perf_counter() - started
    reader.detector.warm_up()
    model = timed(model_contender(reader), questions)
    lr = timed(tfidf_lr_contender(catalog), questions)
    sample = questions[: max(50, len(questions) // factor)]  # a full scan is slow at 10x
    fuzzy = timed(rapidfuzz_contender(catalog), sample)
    return {
        "factor": factor,
        "examples": len(labelled_examples(catalog)),
        "cold_s": cold,
        "warm_s": warm,
        "model": model,
        "tfidf_lr": lr,
        "rapidfuzz": fuzzy,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def speed_table() -> None:
    print("content  examples  start-up cold (trains)  warm cache | model p50  p99 | "
          "tfidf+lr p50  p99 | rapidfuzz p50   p99 | peak MB")  # fmt: skip
    for factor in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--size", str(factor)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        r = json.loads(out)
        (mp50, mp99), (lp50, lp99), (fp50, fp99) = r["model"], r["tfidf_lr"], r["rapidfuzz"]
        print(
            f"{factor:>4}x  {r['examples']:>9}  {r['cold_s']:14.1f} s  {r['warm_s']:10.2f} s |"
            f" {mp50:6.2f}ms {mp99:5.2f}ms | {lp50:8.2f}ms {lp99:5.2f}ms |"
            f" {fp50:9.2f}ms {fp99:6.2f}ms | {r['peak_mb']:6.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, help="measure one size (used internally)")
    parser.add_argument("--ablation", action="store_true", help="also the ablation table")
    args = parser.parse_args()
    if args.size:
        print(json.dumps(run_size(args.size)))
        return
    speed_table()
    accuracy_tables()
    if args.ablation:
        ablation_table()


if __name__ == "__main__":
    main()
