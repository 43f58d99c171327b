"""The trained classifier: its probabilities, its disk cache, and small talk that composes."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from sklearn.svm import LinearSVC

from bot.app import build_engine
from bot.config import PROJECT_ROOT, Settings
from bot.content.catalog import Catalog
from bot.dialog.engine import Engine
from bot.live import LiveContent
from bot.understanding.classifier import ALL_EXTRAS, IntentClassifier, labelled_examples
from bot.understanding.evaluation import read_examples
from bot.understanding.model_cache import ModelCache, training_key
from bot.understanding.normalize import Normalizer

REPORT_SETS = [
    *sorted((PROJECT_ROOT / "tests" / "data" / "eval").glob("*.jsonl")),
    *sorted((PROJECT_ROOT / "tests" / "data" / "hard").glob("*.jsonl")),
]


def _training_gives(model: IntentClassifier, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Training returns the session's model at once (training itself is tested by every
    answer): the list grows by one each time the cache asked for training."""
    trained: list[object] = []

    def train(*args: object, **kwargs: object) -> IntentClassifier:
        trained.append(args)
        return model

    monkeypatch.setattr(IntentClassifier, "train", train)
    return trained


def test_a_cached_model_is_loaded_not_trained_again(
    catalog: Catalog, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalizer = Normalizer(catalog.lexicons)
    cache = ModelCache(tmp_path)
    trained = _training_gives(engine.reader.classifier, monkeypatch)
    first = cache.load_or_train(catalog, normalizer)
    assert len(trained) == 1 and len(list(tmp_path.glob("intents-*.pickle"))) == 1
    again = cache.load_or_train(catalog, normalizer)
    assert len(trained) == 1, "trained again although the model is cached"
    assert again is not first  # read back from the file
    assert again.rank("donde esta la comar", "es") == first.rank("donde esta la comar", "es")


def test_an_unreadable_cached_model_is_trained_again(
    catalog: Catalog, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalizer = Normalizer(catalog.lexicons)
    cache = ModelCache(tmp_path)
    trained = _training_gives(engine.reader.classifier, monkeypatch)
    cache.load_or_train(catalog, normalizer)
    (path,) = tmp_path.glob("intents-*.pickle")
    path.write_bytes(b"half a file")
    classifier = cache.load_or_train(catalog, normalizer)
    assert len(trained) == 2
    assert classifier.rank("que es cbp one", "es")[0][0] == "cbp_one_about"
    assert path.stat().st_size > 1000  # written whole again


def test_the_cache_key_follows_examples_not_answers(catalog: Catalog) -> None:
    key = training_key(catalog, ALL_EXTRAS)
    intent = catalog.intents["cbp_one_about"]
    reworded = dataclasses.replace(catalog, intents={
        **catalog.intents,
        intent.id: intent.model_copy(update={"answer": {**intent.answer, "en": "Reworded."}}),
    })  # fmt: skip
    assert training_key(reworded, ALL_EXTRAS) == key
    examples = {**intent.examples, "en": [*intent.examples["en"], "what is this cbp thing"]}
    more = dataclasses.replace(catalog, intents={
        **catalog.intents, intent.id: intent.model_copy(update={"examples": examples}),
    })  # fmt: skip
    assert training_key(more, ALL_EXTRAS) != key


def test_training_fits_the_svm_three_times_whatever_the_content(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training time is what grows with the content: the temperature's folds cost two fits
    of half the examples, then one fit on all of them."""
    sizes: list[int] = []
    fit = LinearSVC.fit

    def counted(self: LinearSVC, matrix: object, *args: object, **kwargs: object) -> LinearSVC:
        sizes.append(matrix.shape[0])  # type: ignore[attr-defined]
        return fit(self, matrix, *args, **kwargs)

    monkeypatch.setattr(LinearSVC, "fit", counted)
    examples = labelled_examples(catalog)[::10]
    IntentClassifier.fit(examples, {"greeting", "thanks"}, Normalizer(catalog.lexicons))
    assert len(sizes) == 3
    assert sum(sizes[:2]) == sizes[2]


def test_an_unwritable_cache_folder_still_gives_a_model(
    catalog: Catalog, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    cache = ModelCache(blocked / "models")
    trained = _training_gives(engine.reader.classifier, monkeypatch)
    classifier = cache.load_or_train(catalog, Normalizer(catalog.lexicons))
    assert len(trained) == 1
    assert classifier.rank("hello", "en")[0][0] == "greeting"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("sak pase", "greeting"),
        ("how far", "greeting"),
        ("on dit quoi", "greeting"),
        ("👋", "greeting"),
        ("🙏", "thanks"),
        ("mesi anpil", "thanks"),
    ],
)
def test_a_greeting_or_thanks_alone_is_small_talk(engine: Engine, text: str, intent: str) -> None:
    reading = engine.reader.read(text, None)
    assert reading.intent == intent, reading


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hola buenas! ¿Es gratis sacar la cita en CBP One?", "cbp_one_cost_scams"),
        ("bonjou, kijan pou m mande azil nan Meksik?", "asylum_mexico"),
        ("hello good morning, does cbp one still work?", "cbp_one_status"),
        ("where is the care center in huixtla? thank you so much", "center_huixtla"),
    ],
)
def test_small_talk_around_a_question_never_makes_it_ambiguous(
    engine: Engine, text: str, intent: str
) -> None:
    reading = engine.reader.read(text, None)
    assert reading.intent == intent, reading


def test_no_greeting_or_thanks_is_answered_as_a_question_with_high_confidence(
    engine: Engine,
) -> None:
    small_talk = [e for e in read_examples(REPORT_SETS) if e.intent in ("greeting", "thanks")]
    assert len(small_talk) >= 16
    for example in small_talk:
        reading = engine.reader.read(example.text, None)
        substantive = reading.intent not in (None, "greeting", "thanks")
        assert not (substantive and reading.confidence >= 0.9), (example.text, reading.intent)


def test_the_old_engine_answers_while_a_content_edit_is_built(
    engine: Engine, settings: Settings, content_copy: Path
) -> None:
    """A reload builds the new engine (training it when examples changed) before it swaps:
    until then the one in use is the old one, whole. The transport runs reloads in a worker
    thread. The edit here is an answer's wording, so the build loads the session's models."""
    started, release = threading.Event(), threading.Event()
    new_engine: list[Engine] = []

    def slow_build() -> Engine:
        started.set()
        assert release.wait(60)
        new_engine.append(build_engine(local).engine)
        return new_engine[0]

    local = settings.model_copy(update={"content_dir": content_copy})
    live = LiveContent(local, engine, slow_build)
    file = content_copy / "intents" / "cbp_one.yaml"
    old = "CBP One era una aplicación del gobierno"
    file.write_text(file.read_text("utf-8").replace(old, "CBP One (editado) era una", 1), "utf-8")
    worker = threading.Thread(target=live.reload)
    worker.start()
    assert started.wait(60)
    assert live.engine is engine
    assert live.engine.reader.read("que es cbp one", None).intent == "cbp_one_about"
    assert old in (live.engine.answer_text("cbp_one_about", "es") or "")
    release.set()
    worker.join(120)
    assert live.engine is new_engine[0] and live.engine is not engine
    assert "(editado)" in (live.engine.answer_text("cbp_one_about", "es") or "")
