"""Reading without scikit-learn gives scikit-learn's numbers (bot/understanding/tfidf.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.dialog.engine import Engine
from bot.understanding.classifier import (
    Fitted,
    IntentClassifier,
    fit_model,
    labelled_examples,
)
from bot.understanding.danger_score import DangerScorer, _words, fit_danger_model, windows
from bot.understanding.evaluation import read_examples
from bot.understanding.features import text_features
from bot.understanding.normalize import Normalizer
from bot.understanding.tfidf import Features, Vectorizer

EVAL = sorted((PROJECT_ROOT / "tests" / "data" / "eval").glob("*.jsonl"))
AWKWARD = ["", "  ", "a", "Él  dijo\tHOLA", "no  sé  q hacer", "cbp one cbp one cbp", "x y"]


@pytest.fixture(scope="module")
def normalizer(catalog: Catalog) -> Normalizer:
    return Normalizer(catalog.lexicons)


@pytest.fixture(scope="module")
def fitted(catalog: Catalog, normalizer: Normalizer) -> Fitted:
    small_talk = {i.id for i in catalog.intents.values() if i.small_talk}
    return fit_model(labelled_examples(catalog), small_talk, normalizer)


def test_each_analyzer_gives_scikit_learns_grams() -> None:
    for fitted in text_features().fit([*AWKWARD, "hola amigo"]).transformer_list:
        vectorizer = fitted[1]
        ours = Vectorizer.from_fitted(vectorizer)
        for text in AWKWARD:
            assert ours.grams(text) == vectorizer.build_analyzer()(text), text


def test_options_not_reproduced_are_refused() -> None:
    with pytest.raises(ValueError, match="strip_accents"):
        Vectorizer.from_fitted(TfidfVectorizer(strip_accents="unicode").fit(["hola"]))


def test_intent_probabilities_are_scikit_learns_on_every_evaluation_message(
    fitted: Fitted, normalizer: Normalizer
) -> None:
    classifier = IntentClassifier.from_fitted(fitted, normalizer)
    texts = [classifier.reading(normalizer.tokens(e.text, e.lang)) for e in read_examples(EVAL)]
    expected = fitted.model.predict_proba(fitted.features.transform(texts))
    got = classifier.probabilities(texts)
    assert got.shape == expected.shape
    # The weights are kept as float32: the same ranking, probabilities within 1e-6.
    assert np.abs(got - expected).max() < 1e-6
    assert (np.argsort(-got, axis=1)[:, :3] == np.argsort(-expected, axis=1)[:, :3]).all()
    assert classifier.intents == tuple(fitted.model.classes_)


def test_danger_probabilities_are_scikit_learns_on_every_evaluation_window(
    catalog: Catalog, normalizer: Normalizer
) -> None:
    features, model = fit_danger_model(catalog, normalizer)
    scorer = DangerScorer.from_fitted(features, model)
    texts = [
        window
        for e in read_examples(EVAL)
        for window in windows(_words(normalizer.tokens(e.text, e.lang)))
    ]
    expected = model.predict_proba(features.transform(texts))[:, 1]
    assert np.abs(scorer.probabilities(texts) - expected).max() < 1e-9


def test_union_columns_follow_scikit_learns_order() -> None:
    union = text_features().fit(["hola amigo mio", "donde esta la comar"])
    ours = Features.from_union(union)
    columns, values = ours.row("hola comar")
    expected = union.transform(["hola comar"]).tocsr()
    expected.sort_indices()
    assert ours.size == expected.shape[1]
    assert list(columns) == list(expected.indices)
    assert np.abs(values - expected.data).max() < 1e-12


def test_answering_a_message_imports_neither_scikit_learn_nor_scipy(engine: Engine) -> None:
    # The session's engine has cached both models; `ask` reads them from there.
    script = (
        "import sys\n"
        "from bot.cli.main import main\n"
        "main(['ask', 'hola, me quieren matar, donde queda el centro de tapachula'])\n"
        "loaded = sorted(m for m in ('sklearn', 'scipy') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
    )
