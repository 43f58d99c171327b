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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from bot.understanding import classifier  # noqa: E402
from bot.understanding.classifier import (  # noqa: E402
    ALL_EXTRAS,
    OUT_OF_SCOPE,
    Extras,
    labelled_examples,
)
from bot.understanding.evaluation import Example, read_examples  # noqa: E402
from bot.understanding.model_cache import ModelCache  # noqa: E402
from bot.understanding.normalize import Normalizer, fold  # noqa: E402
from bot.understanding.reader import Reader  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = ("eval", "hard", "dev", "hard-dev")
SIZES = (1, 10)
SMALL_TALK = ("greeting", "thanks")
RENAMED = 0.5  # share of an intent's words a synthetic copy renames
SYLLABLES = "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ta te ti to".split()  # noqa: SIM905

# What a contender says of a message: the intent it ranks first (None: out of scope) and the
# one it answers (None: it does not answer).
Guess = tuple[str | None, str | None]


def synthetic(catalog: Catalog, factor: int, seed: int = 7) -> Catalog:
    """The catalog with (factor - 1) synthetic copies of every intent, each a topic of its
    own: a copy renames about half of its original's words, each always to the same invented
    word ("cita" is "kobemi" in every example of that copy), so a copy is told from its
    original and from the other copies by its words, as real intents are. Invented words come
    from a pool that grows with the square root of the content (Heaps' law), so the vocabulary
    grows as real content would.

    (Copies that only add random words to their original's examples, as this did before, are
    ten indistinguishable intents: no classifier separates them, and the linear SVM's solver
    then runs to its iteration limit on every class.)"""
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
            words = {w for t in intent.examples.values() for e in t for w in e.split()}
            renamed: dict[str, str] = {}
            for word in sorted(words):
                renamed[word] = rng.choice(pool) if rng.random() < RENAMED else word
            examples = {
                lang: [" ".join(renamed[w] for w in text.split()) for text in texts]
                for lang, texts in intent.examples.items()
            }
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


def accuracy_tables(names: tuple[str, ...] = SETS) -> None:
    catalog = load_catalog(ROOT / "content")
    reader = Reader(catalog, ModelCache(ROOT / "data" / "models"))
    contenders = {
        "model": model_contender(reader),
        "handbuilt": handbuilt_contender(catalog, reader),
        "tfidf+lr": tfidf_lr_contender(catalog),
        "rapidfuzz": rapidfuzz_contender(catalog),
    }
    for name in names:
        examples = read_examples(sorted((DATA / name).glob("*.jsonl")))
        print(f"\n{name}: ranking top-1 / in-scope answered right / out of scope unanswered")
        print(f"{'':10}" + "".join(f"{lang:^22}" for lang in LANGUAGES))
        for contender, guess in contenders.items():
            table = scores(guess, examples)
            print(f"{contender:10}" + "".join(
                "  " + " ".join(f"{v:5.1%}" for v in table[lang]) for lang in LANGUAGES
            ))  # fmt: skip


def with_small_talk(examples: list[Example]) -> list[Example]:
    """The set's questions with one of the set's own greetings before them, or one of its
    thanks after them, in turn: small talk must not change what a question is answered."""
    composed = []
    for lang in LANGUAGES:
        own = [e for e in examples if e.lang == lang]
        greetings = [e.text for e in own if e.intent == "greeting"]
        thanks = [e.text for e in own if e.intent == "thanks"]
        questions = [e for e in own if e.danger is None and e.intent not in SMALL_TALK]
        for n, e in enumerate(q for q in questions if q.intent is not None):
            text = f"{greetings[n % len(greetings)]}, {e.text}" if n % 2 else (
                f"{e.text} {thanks[n % len(thanks)]}")  # fmt: skip
            composed.append(dataclasses.replace(e, text=text))
    return composed


def small_talk_answered_high(reader: Reader, examples: list[Example]) -> int:
    """Greetings and thanks answered with a substantive intent at 0.9 or more (floor: none)."""
    readings = [reader.read(e.text, None) for e in examples if e.intent in SMALL_TALK]
    return sum(r.intent not in (None, *SMALL_TALK) and r.confidence >= 0.9 for r in readings)


@contextmanager
def constants(**values: object) -> Iterator[None]:
    """The classifier's module constants set to `values` while a variant trains."""
    saved = {name: getattr(classifier, name) for name in values}
    for name, value in values.items():
        setattr(classifier, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(classifier, name, value)


def ablation_table() -> None:
    """Each extra switched off in turn (and each constant moved), retrained; every set, all
    languages: in-scope answered right / out of scope unanswered; then the tuning sets'
    questions with a greeting or thanks around them, and the small-talk floor."""
    catalog = load_catalog(ROOT / "content")

    def build(extras: Extras = ALL_EXTRAS, **values: object) -> Callable[[], Reader]:
        def reader() -> Reader:
            with constants(**values):
                return Reader(catalog, extras=extras)

        return reader

    variants: dict[str, Callable[[], Reader]] = {
        "all extras": build(),
        "no typo correction": build(Extras(typo_correction=False)),
        "typo cutoff 75 (not 82)": build(CORRECTION_CUTOFF=75.0),
        "typo cutoff 90 (not 82)": build(CORRECTION_CUTOFF=90.0),
        "typos from 3 letters (not 4)": build(MIN_CORRECTABLE=3),
        "typos from 6 letters (not 4)": build(MIN_CORRECTABLE=6),
        "no lexicons": lambda: Reader(dataclasses.replace(catalog, lexicons={})),
        "no place entities": lambda: Reader(catalog, places=False),
        "no unknown-word marker": build(Extras(unknown_words=False)),
        "no small-talk composition": build(Extras(small_talk=False)),
        "small-talk share 0.15 (not 0.3)": build(SMALL_TALK_SHARE=0.15),
        "small-talk share 0.5 (not 0.3)": build(SMALL_TALK_SHARE=0.5),
        "no out-of-scope class": build(Extras(out_of_scope=False)),
    }
    sets = {name: read_examples(sorted((DATA / name).glob("*.jsonl"))) for name in SETS}
    tuning = [e for name in ("dev", "hard-dev") for e in sets[name]]
    composed = [e for name in ("dev", "hard-dev") for e in with_small_talk(sets[name])]
    every = [e for examples in sets.values() for e in examples]
    print("\nablation: in-scope answered right / out of scope unanswered, all languages; "
          "tuning sets' questions answered right plain / with small talk; greetings and "
          "thanks answered as a question at >= 0.9")  # fmt: skip
    print(f"{'':32}" + "".join(f"{name:^14}" for name in sets) + " small talk   >= 0.9")
    for variant, make in variants.items():
        reader = make()
        guess = model_contender(reader)
        cells = []
        for examples in sets.values():
            table = scores(guess, examples)
            cells.append(" ".join(
                f"{statistics.mean(t[i] for t in table.values()):5.1%}" for i in (1, 2)
            ))  # fmt: skip
        plain = scores(guess, [e for e in tuning if e.intent not in SMALL_TALK and e.text])
        around = scores(guess, composed)
        cells.append(f"{statistics.mean(t[1] for t in plain.values()):5.1%} "
                     f"{statistics.mean(t[1] for t in around.values()):5.1%}")  # fmt: skip
        cells.append(f"{small_talk_answered_high(reader, every):3}")
        print(f"{variant:32}" + "  ".join(cells), flush=True)


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


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_size(factor: int, folder: Path) -> dict[str, object]:
    """Start-up with a cold cache (the model is trained and stored in `folder`), in a
    process of its own so that its peak memory is the build's."""
    catalog = synthetic(load_catalog(ROOT / "content"), factor)
    before = rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    Reader(catalog, ModelCache(folder))
    return {
        "cold_cpu_s": time.process_time() - cpu,
        "examples": len(labelled_examples(catalog)),
        "intents": len(catalog.intents),
        "cold_s": time.perf_counter() - started,
        "before_mb": before,
        "build_peak_mb": peak_mb(),
        "stored_mb": sum(f.stat().st_size for f in folder.iterdir()) / 2**20,
    }


def serve_size(factor: int, folder: Path) -> dict[str, object]:
    """Start-up with the warm cache `folder`, the memory the loaded model holds, and the
    latency of each contender (the anchors trained after the model is measured)."""
    questions = [e.text for e in read_examples(sorted((DATA / "eval").glob("*.jsonl")))]
    catalog = synthetic(load_catalog(ROOT / "content"), factor)
    before = rss_mb()
    started = time.perf_counter()
    reader = Reader(catalog, ModelCache(folder))
    warm = time.perf_counter() - started
    loaded = rss_mb()
    reader.detector.warm_up()
    model = timed(model_contender(reader), questions)
    lr = timed(tfidf_lr_contender(catalog), questions)
    sample = questions[: max(50, len(questions) // factor)]  # a full scan is slow at 10x
    fuzzy = timed(rapidfuzz_contender(catalog), sample)
    return {
        "warm_s": warm,
        "before_mb": before,
        "loaded_mb": loaded,
        "model": model,
        "tfidf_lr": lr,
        "rapidfuzz": fuzzy,
    }


def measure(phase: str, factor: int, folder: Path) -> dict[str, object]:
    """One phase of one size, in a new process."""
    out = subprocess.run(
        [sys.executable, __file__, "--size", str(factor), "--phase", phase, "--cache",
         str(folder)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(out))


def speed_table() -> None:
    """Per size: training (start-up with a cold cache; its CPU time too, which a shared
    machine's load does not inflate), start-up with a warm one, latency,
    and memory: the build's peak beside what the finished model holds once loaded (RSS
    after loading minus before) and its size on disk."""
    print("content intents examples | cold (trains) warm | model p50  p99 | tfidf+lr p50  p99 |"
          " rapidfuzz p50   p99 | build peak MB (+ over start) | loaded model MB | on disk MB"
          )  # fmt: skip
    for factor in SIZES:
        with tempfile.TemporaryDirectory() as name:
            t = measure("train", factor, Path(name))
            r = measure("serve", factor, Path(name))
        (mp50, mp99), (lp50, lp99), (fp50, fp99) = r["model"], r["tfidf_lr"], r["rapidfuzz"]
        grown = t["build_peak_mb"] - t["before_mb"]
        held = r["loaded_mb"] - r["before_mb"]
        print(
            f"{factor:>4}x {t['intents']:>7} {t['examples']:>8} | {t['cold_s']:8.1f} s"
            f" (CPU {t['cold_cpu_s']:.1f} s)"
            f" {r['warm_s']:5.2f} s | {mp50:6.2f}ms {mp99:5.2f}ms | {lp50:8.2f}ms {lp99:5.2f}ms |"
            f" {fp50:9.2f}ms {fp99:6.2f}ms | {t['build_peak_mb']:6.0f} (+{grown:.0f}) |"
            f" {held:6.0f} | {t['stored_mb']:6.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, help="measure one size (used internally)")
    parser.add_argument("--phase", choices=("train", "serve"), help="(used internally)")
    parser.add_argument("--cache", type=Path, help="model cache folder (used internally)")
    parser.add_argument("--speed-only", action="store_true", help="only the speed table")
    parser.add_argument(
        "--sets",
        nargs="+",
        help="only the accuracy tables, of these folders of tests/data "
        "(figures only, no message: a blind set can be measured without being read)",
    )
    parser.add_argument("--ablation", action="store_true", help="also the ablation table")
    args = parser.parse_args()
    if args.size:
        phase = train_size if args.phase == "train" else serve_size
        print(json.dumps(phase(args.size, args.cache)))
        return
    if args.sets:
        accuracy_tables(tuple(args.sets))
        return
    speed_table()
    if args.speed_only:
        return
    accuracy_tables()
    if args.ablation:
        ablation_table()


if __name__ == "__main__":
    main()
