"""A learned danger score: how likely a message is to tell of danger, in words no list has.

The danger expressions (bot/understanding/danger.py) catch what staff wrote down; people in
danger say it in ways nobody wrote down. This score generalises from the same knowledge: a
binary linear model over TF-IDF of words, word pairs and character 2-5-grams (the intent
classifier's features), trained with the emergency intent's examples, every danger
expression and danger.yaml's whole danger `stories` as danger, and every other intent's
examples, the out-of-scope phrases, the danger look-alikes ("me muero de hambre") and
danger.yaml's `ordinary` messages that share danger's words ("la policía me pidió mis
papeles") as not danger. Class weights are balanced; the probability is the logistic model's
own.

Danger is often a few words buried in a long story (a CBP One question, then "they took my
brother"): a message is read in overlapping windows of a few words, like the phrases it was
trained on, and its score is the highest window's. It is trained when what it reads changes
(with scikit-learn) and kept in the model cache beside the intent classifier as plain arrays
(bot/understanding/tfidf.py): reading does not import scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bot.content.catalog import Catalog
from bot.content.expressions import GAP, is_year
from bot.languages import LANGUAGES
from bot.understanding.model_cache import ModelCache, sklearn_version
from bot.understanding.normalize import Normalizer
from bot.understanding.tfidf import Features

if TYPE_CHECKING:  # scikit-learn is imported only to train (see `fit_danger_model`)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

# Bump when training or features change: every cached danger model is then trained again.
# 6: kept as plain arrays (bot/understanding/tfidf.py); 7: every year read as one word.
DANGER_MODEL_VERSION = 7
# Windows as long as a danger phrase with some words around it, half overlapping so that no
# phrase is cut in two everywhere. Chosen on tests/data/danger-dev and danger-dev2 (6, 8 and
# 10 words tried: 8 caught the most there for the fewest false alarms).
WINDOW = 8
STEP = 4
REGULARISATION = 3.0  # LogisticRegression's C: 1 and 3 tried on the same sets, 3 caught more
# A message with fewer words the score was trained on is not scored: on a text it knows
# nothing of ("si", "xx", "zzqx wwpt lorem") the model's answer is its prior, as high as
# 0.6-0.9 with balanced classes. One- and two-word danger is the lists' (and the intent
# classifier's) to catch: "auxilio", "anmwe", "me violaron".
MIN_KNOWN_WORDS = 2
YEAR = "yyyy"  # what every year is to the score (see _words)


class DangerExample(NamedTuple):
    """One phrase and whether it tells of danger (a named tuple: the training key makes
    ~11,000 at every start, five times faster than a frozen dataclass)."""

    text: str
    lang: str
    danger: bool


def danger_examples(catalog: Catalog) -> list[DangerExample]:
    """What the score learns from: urgent intents' examples and the danger expressions as
    danger; everything else the content says people write, and the look-alikes, as not."""
    examples = [
        DangerExample(text, lang, intent.urgent)
        for intent in catalog.intents.values()
        for lang in LANGUAGES
        for text in intent.examples.get(lang, [])
    ]
    examples += [
        DangerExample(text, lang, False)
        for lang, texts in catalog.out_of_scope.items()
        for text in texts
    ]
    if catalog.danger is not None:
        examples += [
            DangerExample(_plain(expression), lang, True)
            for kind in catalog.danger.kinds
            for lang, expressions in kind.expressions.items()
            for expression in expressions
        ]
        examples += [
            DangerExample(_plain(expression), lang, False)
            for lang, expressions in catalog.danger.not_danger.items()
            for expression in expressions
        ]
        examples += [
            DangerExample(text, lang, danger)
            for danger, section in (
                (True, catalog.danger.stories),
                (False, catalog.danger.ordinary),
            )
            for lang, texts in section.items()
            for text in texts
        ]
    return examples


def _plain(expression: str) -> str:
    """An expression as words: stems as written ("morir*" -> "morir"), gaps dropped."""
    return " ".join(word.rstrip("*") for word in expression.split() if word != GAP)


def fit_danger_model(
    catalog: Catalog, normalizer: Normalizer
) -> tuple[FeatureUnion, LogisticRegression]:
    """The fitted features and logistic model (scikit-learn, imported here: only training
    needs it)."""
    from sklearn.linear_model import LogisticRegression

    from bot.understanding.features import text_features

    examples = danger_examples(catalog)
    texts = [" ".join(_words(normalizer.tokens(e.text, e.lang))) for e in examples]
    features = text_features()
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    model.fit(features.fit_transform(texts), [e.danger for e in examples])
    return features, model


class DangerScorer:
    """`score(tokens)` is the probability, 0 to 1, that a normalised message tells of
    danger; it holds only the TF-IDF features as arrays, the weights and the intercept."""

    def __init__(self, features: Features, weights: np.ndarray, intercept: float) -> None:
        self.features = features
        self._weights = weights
        self._intercept = intercept
        self._known = frozenset(word for word in features.parts[0].vocabulary() if " " not in word)

    @classmethod
    def from_fitted(cls, features: FeatureUnion, model: LogisticRegression) -> DangerScorer:
        """The fitted model as plain arrays: one message is many windows, and scikit-learn's
        checks on every call would cost more than the arithmetic (a test holds them equal)."""
        # Labels are booleans, so the classes are (False, True): the weights are danger's.
        weights = np.ascontiguousarray(model.coef_[0], dtype=np.float64)
        return cls(Features.from_union(features), weights, float(model.intercept_[0]))

    @classmethod
    def train(cls, catalog: Catalog, normalizer: Normalizer) -> DangerScorer:
        return cls.from_fitted(*fit_danger_model(catalog, normalizer))

    def __getstate__(self) -> dict[str, object]:
        return {"features": self.features, "weights": self._weights, "intercept": self._intercept}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["features"], state["weights"], state["intercept"])  # type: ignore[misc]

    def score(self, tokens: Sequence[str]) -> float:
        """The highest probability of danger over the whole message and its windows; 0 for
        a message with fewer than MIN_KNOWN_WORDS words the model knows."""
        words = _words(tokens)
        if sum(word in self._known for word in words) < MIN_KNOWN_WORDS:
            return 0.0
        return float(self.probabilities(windows(words)).max())

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """What the fitted model's `predict_proba(features.transform(texts))[:, danger]`
        gives for these texts."""
        decision = self.features.decision(texts, self._weights) + self._intercept
        return np.asarray(1.0 / (1.0 + np.exp(-decision)))


def _words(tokens: Sequence[str]) -> list[str]:
    """The tokens without numbers: "2 hijos", "3 dias" appear in danger and in ordinary
    stories alike, and the model had learnt "message 2" as danger (0.88). A year is kept as
    one word, YEAR, whichever it is: danger now is not told with its year, and a past one
    often is ("en 2019 mataron a mi padre, eso cuenta para el asilo?")."""
    return [
        YEAR if is_year(token) else token
        for token in tokens
        if not token.isdigit() or is_year(token)
    ]


def windows(tokens: Sequence[str]) -> list[str]:
    """The whole text, and when it is longer than a window, every window of it."""
    pieces = [" ".join(tokens)]
    if len(tokens) > WINDOW:
        starts = [*range(0, len(tokens) - WINDOW, STEP), len(tokens) - WINDOW]
        pieces += [" ".join(tokens[start : start + WINDOW]) for start in starts]
    return pieces


def danger_training_key(catalog: Catalog) -> str:
    """A hash of what the danger score would be trained on, and with which code."""
    material = {
        "model": DANGER_MODEL_VERSION,
        "sklearn": sklearn_version(),
        "examples": [(e.text, e.lang, e.danger) for e in danger_examples(catalog)],
        "lexicons": {
            lang: [sorted(lexicon.replacements.items()), sorted(lexicon.stopwords)]
            for lang, lexicon in sorted(catalog.lexicons.items())
        },
    }
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:24]


def load_or_train(catalog: Catalog, normalizer: Normalizer, cache: ModelCache) -> DangerScorer:
    """The danger score for this content, from the cache when it was trained before."""
    return cache.load_or_build(
        "danger",
        danger_training_key(catalog),
        DangerScorer,
        lambda: DangerScorer.train(catalog, normalizer),
    )
