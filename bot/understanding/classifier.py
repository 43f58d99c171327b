"""The intent classifier: a linear model trained on the content's example phrases.

Messages are first normalised the way only this domain can (each language's SMS spellings and
variants, typos corrected towards our own vocabulary), then read as TF-IDF of words, pairs of
words and character n-grams and classified by a linear SVM (class weights balanced) whose scores
become probabilities through a temperature fitted on cross-validation folds
(`CalibratedClassifierCV`, method "temperature": one softmax over all intents, so they sum to
one). A question and its copies with small talk stay in one fold, so the temperature is fitted
on questions the SVM has not seen in any form. The probability of the best intent is what the
reader's thresholds are chosen on (bench/calibrate.py).

scikit-learn trains; the trained model is then kept as plain arrays (bot/understanding/
tfidf.py), so a process that only reads messages never imports scikit-learn or SciPy.

A word the vocabulary does not know (after typo correction) also adds a marker token: messages
about other things are full of such words, and the model learns how much that says.

Out of scope is a class of its own, learned from content/out_of_scope.yaml: abstention is
learned from look-alikes, not tuned by hand. A greeting or thanks before or after a question is
learned too: training sees each question with and without small talk around it.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.catalog import Catalog
from bot.languages import LANGUAGES
from bot.understanding.normalize import Normalizer
from bot.understanding.tfidf import Features, softmax

if TYPE_CHECKING:  # scikit-learn is imported only to train (see `fit_model`)
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import FeatureUnion

# The pseudo-intent of content/out_of_scope.yaml: when it wins, nothing is answered.
OUT_OF_SCOPE = "(out of scope)"
MIN_CORRECTABLE = 4  # shorter words are not typo-corrected: too many false friends
CORRECTION_CUTOFF = 82.0  # rapidfuzz ratio (0-100) a correction must reach
# Share of the questions that training also sees with a greeting before or a thanks after.
SMALL_TALK_SHARE = 0.3
FOLDS = 5  # cross-validation folds of the probability calibration
SVM_C = 1.5  # regularisation, chosen on tests/data/dev (out of scope left unmatched)
SEED = 7
UNKNOWN = "~"  # the marker of a word outside the vocabulary (no normalised token has "~")


@dataclass(frozen=True)
class Extras:
    """What the domain adds in front of a plain model; each can be switched off to measure
    what it is worth (the ablation table of bench/understanding.py)."""

    typo_correction: bool = True
    small_talk: bool = True
    out_of_scope: bool = True
    unknown_words: bool = True


ALL_EXTRAS = Extras()


class Labelled(NamedTuple):
    """One example phrase and its intent (a named tuple: the training key makes ~11,000 at every
    start, five times faster than a frozen dataclass)."""

    text: str
    lang: str
    intent: str


def labelled_examples(catalog: Catalog, extras: Extras = ALL_EXTRAS) -> list[Labelled]:
    """Every example phrase of every intent, and of out of scope unless switched off."""
    examples = [
        Labelled(text, lang, intent.id)
        for intent in catalog.intents.values()
        for lang in LANGUAGES
        for text in intent.examples.get(lang, [])
    ]
    if extras.out_of_scope:
        examples += [
            Labelled(text, lang, OUT_OF_SCOPE)
            for lang, texts in catalog.out_of_scope.items()
            for text in texts
        ]
    return examples


@dataclass(frozen=True)
class Fitted:
    """What scikit-learn trained: the fitted features and calibrated model, and the words
    typo correction corrects towards."""

    features: FeatureUnion
    model: CalibratedClassifierCV
    vocabulary: frozenset[str]
    extras: Extras


def fit_model(
    examples: list[Labelled],
    small_talk: set[str],
    normalizer: Normalizer,
    extras: Extras = ALL_EXTRAS,
) -> Fitted:
    """Trains on `examples` with scikit-learn (imported here: only training needs it)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.svm import LinearSVC

    from bot.understanding.features import text_features

    counts = Counter(t for e in examples for t in set(normalizer.tokens(e.text, e.lang)))
    vocabulary = frozenset(t for t, n in counts.items() if n > 1 and not t.isdigit())
    reading = Reading(vocabulary, extras)
    # Each question and its copies with small talk form one group, which the calibration
    # folds never split: the temperature is fitted only on questions the SVM has not seen.
    trained = [(e, n) for n, e in enumerate(examples)]
    if extras.small_talk:
        trained += list(_with_small_talk(trained, small_talk))
    features = text_features()
    matrix = features.fit_transform(
        [reading.text(normalizer.tokens(e.text, e.lang)) for e, _ in trained]
    )
    labels = [e.intent for e, _ in trained]
    folds = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=SEED)
    model = CalibratedClassifierCV(
        LinearSVC(class_weight="balanced", C=SVM_C),
        method="temperature",
        ensemble=False,
        cv=list(folds.split(matrix, labels, groups=[n for _, n in trained])),
    )
    model.fit(matrix, labels)
    return Fitted(features, model, vocabulary, extras)


class IntentClassifier:
    """Ranks intents for a message by probability; trained once per content version (and
    kept on disk by bot.understanding.model_cache, so a restart does not train again).

    It holds only what reading needs: the TF-IDF features as plain arrays, the SVM's weights
    and intercepts per intent, and the temperature."""

    def __init__(
        self,
        normalizer: Normalizer,
        features: Features,
        intents: tuple[str, ...],
        weights: np.ndarray,
        intercept: np.ndarray,
        temperature: float,
        vocabulary: frozenset[str],
        extras: Extras,
    ) -> None:
        self.features = features
        self.intents = intents
        self._weights = weights
        self._intercept = intercept
        self._temperature = temperature
        self.vocabulary = vocabulary
        self.extras = extras
        self.use(normalizer)

    @classmethod
    def from_fitted(cls, fitted: Fitted, normalizer: Normalizer) -> IntentClassifier:
        """The fitted model as plain arrays: the same arithmetic as its predict_proba, which
        also checks its input on every call (a test holds the two equal)."""
        (calibrated,) = fitted.model.calibrated_classifiers_
        svm = calibrated.estimator
        # Inside the calibration, classes are numbered: the model maps them back to intents.
        intents = tuple(str(i) for i in fitted.model.classes_[svm.classes_])
        return cls(
            normalizer,
            Features.from_union(fitted.features),
            intents,
            # float32 halves the largest array (77k features by 27 intents, 17 MB); the
            # probabilities move by less than 1e-7 and rank the same (tests/test_tfidf.py).
            np.ascontiguousarray(svm.coef_.T, dtype=np.float32),
            np.asarray(svm.intercept_, dtype=np.float64),
            float(calibrated.calibrators[0].beta_),
            fitted.vocabulary,
            fitted.extras,
        )

    def use(self, normalizer: Normalizer) -> None:
        """Attaches the normaliser (not stored with the model: it is rebuilt from content)."""
        self._normalizer = normalizer
        self._reading = Reading(self.vocabulary, self.extras)

    @classmethod
    def train(
        cls, catalog: Catalog, normalizer: Normalizer, extras: Extras = ALL_EXTRAS
    ) -> IntentClassifier:
        """Trained on every example of the catalog."""
        small_talk = {i.id for i in catalog.intents.values() if i.small_talk}
        return cls.fit(labelled_examples(catalog, extras), small_talk, normalizer, extras)

    @classmethod
    def fit(
        cls,
        examples: list[Labelled],
        small_talk: set[str],
        normalizer: Normalizer,
        extras: Extras = ALL_EXTRAS,
    ) -> IntentClassifier:
        """Trained on `examples` (a cross-validation fold trains on part of them)."""
        return cls.from_fitted(fit_model(examples, small_talk, normalizer, extras), normalizer)

    def __getstate__(self) -> dict[str, object]:
        return {
            "features": self.features,
            "intents": self.intents,
            "_weights": self._weights,
            "_intercept": self._intercept,
            "_temperature": self._temperature,
            "vocabulary": self.vocabulary,
            "extras": self.extras,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._reading = Reading(frozenset(), Extras(typo_correction=False))  # until `use`

    def rank(self, text: str, lang: str | None) -> list[tuple[str, float]]:
        """Every intent with its probability for `text` read as `lang`, most likely first;
        empty when the message has no word at all."""
        return self.rank_tokens(self._normalizer.tokens(text, lang))

    def rank_tokens(self, tokens: list[str]) -> list[tuple[str, float]]:
        """`rank` for a message already normalised (the matcher reuses its tokens)."""
        if not tokens:
            return []
        text = self._reading.text(tokens)
        columns, values = self.features.row(text)
        if not len(columns):
            return []
        probabilities = softmax(
            self._temperature * (values @ self._weights[columns] + self._intercept)
        )
        order = np.argsort(-probabilities)
        return [(self.intents[i], float(probabilities[i])) for i in order]

    def reading(self, tokens: list[str]) -> str:
        """The text the features read for these tokens (typos corrected, unknown words
        marked)."""
        return self._reading.text(tokens)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """What the fitted model's `predict_proba(features.transform(texts))` gives for texts
        as `reading` gives them: the SVM's decision values, scaled by the temperature fitted
        on cross-validation folds, through a softmax; one row per text."""
        decision = self.features.decision(texts, self._weights) + self._intercept
        return softmax(self._temperature * decision)


class Speller:
    """Corrects a word we don't know to the closest word of our vocabulary (rapidfuzz):
    "tapachla" -> "tapachula". Character n-grams forgive some typos; a corrected word also
    gets its whole-word feature back."""

    def __init__(self, vocabulary: frozenset[str]) -> None:
        # Corrections go towards words seen at least twice in training: a word seen once
        # is as likely a typo itself (the vocabulary holds only those).
        self._vocabulary = vocabulary
        self._by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(vocabulary):
            self._by_shape[(word[0], len(word))].append(word)
        self.correct = lru_cache(maxsize=20000)(self._correct)

    def _correct(self, token: str) -> str:
        if token in self._vocabulary or len(token) < MIN_CORRECTABLE or token.isdigit():
            return token
        spread = max(1, len(token) // 4)
        choices = [
            word
            for size in range(len(token) - spread, len(token) + spread + 1)
            for word in self._by_shape.get((token[0], size), ())
        ]
        best = process.extractOne(
            token, choices, scorer=fuzz.ratio, score_cutoff=CORRECTION_CUTOFF
        )
        return best[0] if best else token


class Reading:
    """The tokens as the model reads them: unknown words corrected towards the vocabulary
    and, if still unknown, followed by the UNKNOWN marker (each as `extras` say)."""

    def __init__(self, vocabulary: frozenset[str], extras: Extras) -> None:
        self._vocabulary = vocabulary
        self._speller = Speller(vocabulary) if extras.typo_correction else None
        self._mark = extras.unknown_words

    def text(self, tokens: list[str]) -> str:
        words = [self._speller.correct(t) for t in tokens] if self._speller else tokens
        if self._mark:
            words = [
                w if w in self._vocabulary or w.isdigit() else f"{w} {UNKNOWN}" for w in words
            ]
        return " ".join(words)


def _with_small_talk(
    examples: list[tuple[Labelled, int]], small_talk: set[str]
) -> Iterator[tuple[Labelled, int]]:
    """Some questions again with a greeting before or a thanks after them, in their own
    language, labelled with the question (and kept in its group): small talk composes with a
    question, it never competes with it."""
    rng = random.Random(SEED)
    phrases: dict[str, list[str]] = defaultdict(list)
    for example, _ in examples:
        if example.intent in small_talk:
            phrases[example.lang].append(example.text)
    for example, group in examples:
        if example.intent in small_talk or example.intent == OUT_OF_SCOPE:
            continue
        if phrases[example.lang] and rng.random() < SMALL_TALK_SHARE:
            extra = rng.choice(phrases[example.lang])
            text = f"{extra}, {example.text}" if rng.random() < 0.5 else f"{example.text} {extra}"
            yield Labelled(text, example.lang, example.intent), group
