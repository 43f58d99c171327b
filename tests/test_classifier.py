"""The trained classifier: its probabilities, its disk cache, and small talk that composes."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.config import PROJECT_ROOT, Settings
from bot.content.catalog import Catalog
from bot.dialog.engine import Engine
from bot.live import LiveContent
from bot.understanding.classifier import ALL_EXTRAS, IntentClassifier
from bot.understanding.evaluation import read_examples
from bot.understanding.model_cache import ModelCache, training_key
from bot.understanding.normalize import Normalizer

REPORT_SETS = [
    *sorted((PROJECT_ROOT / "tests" / "data" / "eval").glob("*.jsonl")),
    *sorted((PROJECT_ROOT / "tests" / "data" / "hard").glob("*.jsonl")),
]


def test_a_cached_model_is_loaded_not_trained_again(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalizer = Normalizer(catalog.lexicons)
    cache = ModelCache(tmp_path)
    first = cache.load_or_train(catalog, normalizer)
    assert len(list(tmp_path.glob("intents-*.pickle"))) == 1

    def no_training(*args: object, **kwargs: object) -> IntentClassifier:
        raise AssertionError("trained again although the model is cached")

    monkeypatch.setattr(IntentClassifier, "train", no_training)
    again = cache.load_or_train(catalog, normalizer)
    assert again.rank("donde esta la comar", "es") == first.rank("donde esta la comar", "es")


def test_an_unreadable_cached_model_is_trained_again(catalog: Catalog, tmp_path: Path) -> None:
    normalizer = Normalizer(catalog.lexicons)
    cache = ModelCache(tmp_path)
    cache.load_or_train(catalog, normalizer)
    (path,) = tmp_path.glob("intents-*.pickle")
    path.write_bytes(b"half a file")
    classifier = cache.load_or_train(catalog, normalizer)
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


def test_an_unwritable_cache_folder_still_gives_a_model(catalog: Catalog, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    cache = ModelCache(blocked / "models")
    classifier = cache.load_or_train(catalog, Normalizer(catalog.lexicons))
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


def test_the_old_model_answers_while_a_content_edit_retrains(
    engine: Engine, settings: Settings, content_copy: Path
) -> None:
    """A reload builds (and trains) the new engine before it swaps: until then the one in use
    is the old one, whole. The transport runs reloads in a worker thread."""
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
    edited = file.read_text("utf-8").replace(
        "    - que es cbp one\n", "    - que es cbp one\n    - cbp one que es eso\n", 1
    )
    file.write_text(edited, "utf-8")
    worker = threading.Thread(target=live.reload)
    worker.start()
    assert started.wait(60)
    assert live.engine is engine
    assert live.engine.reader.read("que es cbp one", None).intent == "cbp_one_about"
    release.set()
    worker.join(120)
    assert live.engine is new_engine[0] and live.engine is not engine
