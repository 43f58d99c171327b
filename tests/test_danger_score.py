"""The learned danger score: danger said in words no list has, trained once and cached."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import Settings
from bot.content.catalog import Catalog
from bot.dialog.safety import SCORE_AT
from bot.understanding import danger_score
from bot.understanding.danger_score import DangerScorer, danger_training_key, windows
from bot.understanding.model_cache import ModelCache
from bot.understanding.normalize import Normalizer

STORY = (
    "hola buenas tardes, llegue a tapachula hace dos semanas con mi familia y estamos en un "
    "hotel cerca del parque, queria preguntar por la cita de cbp one porque no me aparece "
    "nada en la aplicacion y tambien si la comar da constancia, {} gracias por todo y "
    "disculpe las molestias, que dios le bendiga"
)


@pytest.fixture(scope="module")
def scorer(catalog: Catalog, settings: Settings) -> DangerScorer:
    cache = ModelCache(settings.model_cache_dir)  # the session's engine trained it there
    return danger_score.load_or_train(catalog, Normalizer(catalog.lexicons), cache)


@pytest.fixture(scope="module")
def normalizer(catalog: Catalog) -> Normalizer:
    return Normalizer(catalog.lexicons)


def test_danger_buried_in_a_long_story_is_found_in_its_window(
    scorer: DangerScorer, normalizer: Normalizer
) -> None:
    assert scorer.score(normalizer.tokens(STORY.format(""), "es")) < SCORE_AT
    buried = STORY.format("anoche unos hombres se llevaron a mi hermano y piden dinero,")
    assert scorer.score(normalizer.tokens(buried, "es")) >= SCORE_AT


def test_windows_cover_every_word_of_a_long_message() -> None:
    tokens = [f"w{i}" for i in range(23)]
    pieces = windows(tokens)
    assert pieces[0] == " ".join(tokens)
    covered = {word for piece in pieces[1:] for word in piece.split()}
    assert covered == set(tokens)
    assert windows(tokens[:5]) == [" ".join(tokens[:5])]


def test_a_cached_danger_score_is_loaded_not_trained_again(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalizer = Normalizer(catalog.lexicons)
    cache = ModelCache(tmp_path)
    first = danger_score.load_or_train(catalog, normalizer, cache)
    assert len(list(tmp_path.glob("danger-*.pickle"))) == 1

    def no_training(*args: object, **kwargs: object) -> DangerScorer:
        raise AssertionError("trained again although the danger score is cached")

    monkeypatch.setattr(DangerScorer, "train", no_training)
    again = danger_score.load_or_train(catalog, normalizer, cache)
    words = normalizer.tokens("me quieren matar", "es")
    assert again.score(words) == first.score(words)


def test_the_danger_score_key_follows_expressions_not_answers(catalog: Catalog) -> None:
    assert catalog.danger is not None
    key = danger_training_key(catalog)
    kind = catalog.danger.kinds[0]
    reworded = kind.model_copy(update={"answer": {**kind.answer, "en": "Reworded."}})
    kinds = [reworded, *catalog.danger.kinds[1:]]
    danger = catalog.danger.model_copy(update={"kinds": kinds})
    assert danger_training_key(dataclasses.replace(catalog, danger=danger)) == key
    expressions = {**kind.expressions, "en": [*kind.expressions["en"], "no way out for me"]}
    kinds = [kind.model_copy(update={"expressions": expressions}), *catalog.danger.kinds[1:]]
    danger = catalog.danger.model_copy(update={"kinds": kinds})
    assert danger_training_key(dataclasses.replace(catalog, danger=danger)) != key


@pytest.mark.parametrize("text", ["si", "xx", "ok", "zzqx wwpt lorem", "message 2"])
def test_a_short_message_the_score_knows_nothing_of_scores_nothing(
    scorer: DangerScorer, normalizer: Normalizer, text: str
) -> None:
    """On what it never saw the model answers its prior (up to 0.9): that is no evidence."""
    assert scorer.score(normalizer.tokens(text, "es")) == 0.0


def test_ordinary_messages_and_danger_stories_teach_the_score(catalog: Catalog) -> None:
    """danger.yaml's `ordinary` messages are learned as not danger and its `stories` as
    danger; danger told as the `past` is not learned at all (its words are danger's)."""
    assert catalog.danger is not None
    learned = {(e.text, e.danger) for e in danger_score.danger_examples(catalog)}
    for lang in ("es", "en", "fr", "ht"):
        assert all((text, False) in learned for text in catalog.danger.ordinary[lang])
        assert all((text, True) in learned for text in catalog.danger.stories[lang])
    assert catalog.danger.past
    without_past = catalog.danger.model_copy(update={"past": {}})
    unchanged = danger_score.danger_examples(dataclasses.replace(catalog, danger=without_past))
    assert unchanged == danger_score.danger_examples(catalog)
