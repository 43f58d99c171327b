"""Finds the intent a message asks for, with a confidence that says how sure it is.

How a message is scored (docs/ARCHITECTURE.md tells why):
1. its tokens are normalised, then each unknown token is corrected to the closest word of our
   vocabulary with rapidfuzz (typos: "tapachla" -> "tapachula");
2. an inverted index over words gives the examples that share a word with it, weighted by the
   word's rarity (idf), and keeps the best few: scoring never runs over every example, so the
   cost grows far slower than the content;
3. the message and each kept example are compared as tf-idf vectors of words and of character
   n-grams (which forgive the typos correction missed and the endings of verbs): the best
   example of an intent and the intent's centroid (all its examples at once, so long messages
   whose words are spread over several examples still find their intent) both count;
4. the confidence combines that similarity with how much of the message our vocabulary
   explains, so off-topic questions that share one word with an intent ("a bus to Mexico
   City from Tapachula") fall below the answer threshold.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.content.catalog import Catalog
from bot.languages import LANGUAGES
from bot.understanding.normalize import Normalizer

SHORTLIST = 80  # examples that get full scoring
MIN_CORRECTABLE = 4  # shorter words are not typo-corrected: too many false friends
CORRECTION_CUTOFF = 82.0
NGRAMS = (3, 4, 5)
WORD_WEIGHT = 1.5  # a whole word shared says more than its pieces
NEAREST_SHARE = 0.35  # best example vs. centroid in the similarity
OTHER_LANGUAGE_FACTOR = 0.95  # an example in another language explains a little less
CORRECTED_FACTOR = 0.9  # a corrected word is a little less sure than one typed right

Vector = dict[str, float]


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """Ranked intents (best first), the places the message names, and how much of the
    message our vocabulary knows (0..1, by weight)."""

    candidates: tuple[Candidate, ...]
    places: tuple[str, ...] = ()
    known_share: float = 0.0
    tokens: tuple[str, ...] = field(default=(), repr=False)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class _Example:
    intent: str
    lang: str
    vector: Vector


class IntentMatcher:
    """An index over every example of every intent; built once per content version."""

    def __init__(self, catalog: Catalog, normalizer: Normalizer) -> None:
        self._normalizer = normalizer
        self._topic = {i.id: i.topic for i in catalog.intents.values()}
        raw: list[tuple[str, str, list[str]]] = []
        for intent in catalog.intents.values():
            for lang in LANGUAGES:
                for text in intent.examples.get(lang, []):
                    tokens = normalizer.content_tokens(text, lang)
                    if tokens:
                        raw.append((intent.id, lang, tokens))
        counted = [(i, lang, _features(tokens)) for i, lang, tokens in raw]
        document_frequency: Counter[str] = Counter()
        for _i, _lang, features in counted:
            document_frequency.update(features.keys())
        self._n = max(len(counted), 1)
        self._idf = {f: math.log(self._n / df) for f, df in document_frequency.items()}
        self._unseen_idf = math.log(self._n)
        self._examples = [_Example(i, lang, self._vector(f)) for i, lang, f in counted]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, (_i, _lang, tokens) in enumerate(raw):
            for token in set(tokens):
                self._postings[token].append(index)
        sums: dict[str, Counter[str]] = defaultdict(Counter)
        for example in self._examples:
            sums[example.intent].update(example.vector)
        self._centroids = {intent: _unit(dict(total)) for intent, total in sums.items()}
        self._words = {token for _i, _lang, tokens in raw for token in tokens}
        self._by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in self._words:
            self._by_shape[(word[0], len(word))].append(word)
        self._places = [
            (place.intent, alias.lower())
            for place in catalog.places.values()
            for alias in (*place.aliases, place.town.split(",")[0])
        ]
        self._correct = lru_cache(maxsize=20000)(self._correct_uncached)

    @property
    def example_count(self) -> int:
        return len(self._examples)

    def match(self, text: str, lang: str | None, limit: int = 5) -> MatchResult:
        """Ranks intents for `text` read as language `lang` (None: no lexicon applied)."""
        typed = self._normalizer.content_tokens(text, lang)
        places = self._find_places(typed)
        tokens: list[str] = []
        certainty: dict[str, float] = {}
        for token in typed:
            corrected = self._correct(token)
            word = corrected[0] if corrected else token
            tokens.append(word)
            certainty[word] = corrected[1] if corrected else 0.0
        if not tokens:
            return MatchResult((), places)
        weights = {t: self._idf.get("w:" + t, self._unseen_idf) for t in set(tokens)}
        known_share = sum(w * certainty[t] for t, w in weights.items()) / sum(weights.values())
        shortlist = self._shortlist(weights, certainty)
        if not shortlist:
            return MatchResult((), places, known_share, tuple(tokens))
        message = self._vector(_features(tokens), certainty)
        nearest: dict[str, float] = defaultdict(float)
        for index in shortlist:
            example = self._examples[index]
            similarity = _dot(message, example.vector)
            if lang and example.lang != lang:
                similarity *= OTHER_LANGUAGE_FACTOR
            nearest[example.intent] = max(nearest[example.intent], similarity)
        ranked = sorted(
            (
                Candidate(
                    intent,
                    NEAREST_SHARE * best
                    + (1 - NEAREST_SHARE) * _dot(message, self._centroids[intent]),
                )
                for intent, best in nearest.items()
            ),
            key=lambda c: -c.score,
        )
        ranked = self._prefer_named_place(ranked, places)
        return MatchResult(tuple(ranked[:limit]), places, known_share, tuple(tokens))

    def _vector(self, features: Counter[str], certainty: dict[str, float] | None = None) -> Vector:
        vector: Vector = {}
        for feature, count in features.items():
            weight = (1 + math.log(count)) * self._idf.get(feature, self._unseen_idf)
            if feature.startswith("w:"):
                weight *= WORD_WEIGHT
                if certainty is not None and certainty.get(feature[2:], 1.0) < 1.0:
                    weight *= CORRECTED_FACTOR
            vector[feature] = weight
        return _unit(vector)

    def _shortlist(self, weights: dict[str, float], certainty: dict[str, float]) -> list[int]:
        """Examples sharing the most word weight with the message, by a cheap count."""
        overlap: dict[int, float] = defaultdict(float)
        for word, weight in weights.items():
            for index in self._postings.get(word, ()):
                overlap[index] += weight * certainty[word]
        if len(overlap) <= SHORTLIST:
            return list(overlap)
        return heapq.nlargest(SHORTLIST, overlap, key=overlap.__getitem__)

    def _correct_uncached(self, token: str) -> tuple[str, float] | None:
        if token in self._words:
            return token, 1.0
        if len(token) < MIN_CORRECTABLE or token.isdigit():
            return None
        spread = max(1, len(token) // 4)
        choices = [
            word
            for size in range(len(token) - spread, len(token) + spread + 1)
            for word in self._by_shape.get((token[0], size), ())
        ]
        best = process.extractOne(
            token, choices, scorer=fuzz.ratio, score_cutoff=CORRECTION_CUTOFF
        )
        if best is None:
            return None
        return best[0], best[1] / 100.0

    def _find_places(self, tokens: list[str]) -> tuple[str, ...]:
        found: list[str] = []
        for intent, alias in self._places:
            if any(fuzz.ratio(token, alias) >= 80 for token in tokens if len(token) >= 4):
                if intent not in found:
                    found.append(intent)
        return tuple(found)

    def _prefer_named_place(
        self, ranked: list[Candidate], places: tuple[str, ...]
    ) -> list[Candidate]:
        """A question about centers that names one town is about that town's center."""
        if len(places) != 1 or not ranked:
            return ranked
        place_intent = places[0]
        top = ranked[0]
        if top.intent == place_intent or self._topic.get(top.intent) != self._topic.get(
            place_intent
        ):
            return ranked
        promoted = Candidate(place_intent, top.score)
        return [promoted, *(c for c in ranked if c.intent != place_intent)]


def _features(tokens: list[str]) -> Counter[str]:
    """Words (prefixed "w:") and the character n-grams of each word, with its boundaries."""
    features: Counter[str] = Counter()
    for token in tokens:
        features["w:" + token] += 1
        padded = f"<{token}>"
        for n in NGRAMS:
            for start in range(len(padded) - n + 1):
                features[padded[start : start + n]] += 1
    return features


def _unit(vector: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


def _dot(small: Vector, large: Vector) -> float:
    return sum(value * large.get(key, 0.0) for key, value in small.items())
