"""The intent classifier: a linear model trained on the content's example phrases.

Messages are first normalised the way only this domain can (each language's SMS spellings and
variants, typos corrected towards our own vocabulary), then read as TF-IDF of words, pairs of
words and character n-grams by scikit-learn and classified by a linear SVM (class weights
balanced) whose scores become probabilities through a temperature fitted on cross-validation folds
(`CalibratedClassifierCV`, method "temperature": one softmax over all intents, so they sum to
one). A question and its copies with small talk stay in one fold, so the temperature is fitted
on questions the SVM has not seen in any form. The probability of the best intent is what the
reader's thresholds are chosen on (bench/calibrate.py).

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

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import softmax

from bot.content.catalog import Catalog
from bot.languages import LANGUAGES
from bot.understanding.features import text_features
from bot.understanding.normalize import Normalizer

# The pseudo-intent of content/out_of_scope.yaml: when it wins, nothing is answered.
OUT_OF_SCOPE = "(out of scope)"
MIN_CORRECTABLE = 4  # shorter words are not typo-corrected: too many false friends
CORRECTION_CUTOFF = 82.0  # rapidfuzz ratio (0-100) a correction must reach
# Share of the questions that training also sees with a greeting before or a thanks after.
SMALL_TALK_SHARE = 0.3
# Cross-validation folds of the temperature: one scalar, which two folds fit as well as five
# did on the tuning sets (same ranking, answers within one message), for 2 SVM fits of half
# the data besides the final one instead of 5 of four fifths: training time is what grows
# with the content.
FOLDS = 2
SVM_C = 1.5  # regularisation, chosen on tests/data/dev (out of scope left unmatched)
SEED = 7
# The marker of a word outside the vocabulary (no normalised token has "~"). It moves little on
# the intent sets, but the safety net reads the same ranking: without it, danger-dev3 and -dev4
# lose recall (Creole and Spanish 100 -> 97.6, 97.2%) and false alarms rise on three sets.
UNKNOWN = "~"


@dataclass(frozen=True)
class Extras:
    """What the domain adds in front of a plain model; each can be switched off to measure
    what it is worth (the ablation table of bench/understanding.py)."""

    typo_correction: bool = True
    small_talk: bool = True
    out_of_scope: bool = True
    unknown_words: bool = True


ALL_EXTRAS = Extras()


@dataclass(frozen=True)
class Labelled:
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


class IntentClassifier:
    """Ranks intents for a message by probability; trained once per content version (and
    kept on disk by bot.understanding.model_cache, so a restart does not train again)."""

    def __init__(
        self,
        normalizer: Normalizer,
        features: FeatureUnion,
        model: CalibratedClassifierCV,
        vocabulary: frozenset[str],
        extras: Extras,
    ) -> None:
        self.features = features
        self.model = model
        self.vocabulary = vocabulary
        self.extras = extras
        self._compile()
        self.use(normalizer)

    def _compile(self) -> None:
        """The fitted model as plain arrays. scikit-learn's predict_proba checks its input on
        every call, which costs more than the arithmetic for one message; `probabilities`
        does the same arithmetic (a test holds the two equal)."""
        (calibrated,) = self.model.calibrated_classifiers_
        svm = calibrated.estimator
        # Inside the calibration, classes are numbered: the model maps them back to intents.
        self.intents: tuple[str, ...] = tuple(str(i) for i in self.model.classes_[svm.classes_])
        self._weights = np.ascontiguousarray(svm.coef_.T)
        self._intercept = svm.intercept_
        self._temperature = float(calibrated.calibrators[0].beta_)
        self._vectorizers = [vectorizer for _, vectorizer in self.features.transformer_list]

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
        return cls(normalizer, features, model, vocabulary, extras)

    def __getstate__(self) -> dict[str, object]:
        return {
            "features": self.features,
            "model": self.model,
            "vocabulary": self.vocabulary,
            "extras": self.extras,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._compile()
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
        matrix = sparse.hstack([v.transform([text]) for v in self._vectorizers], format="csr")
        if not matrix.nnz:
            return []
        probabilities = self.probabilities(matrix)[0]
        order = np.argsort(-probabilities)
        return [(self.intents[i], float(probabilities[i])) for i in order]

    def probabilities(self, matrix: sparse.csr_matrix) -> np.ndarray:
        """What `self.model.predict_proba(matrix)` gives: the SVM's decision values, scaled
        by the temperature fitted on cross-validation folds, through a softmax."""
        decision = np.asarray(matrix @ self._weights) + self._intercept
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
