"""Finds the intent a message asks for, with a confidence that says how sure it is.

How a message is scored (see docs/ARCHITECTURE.md for the reasoning):
1. its tokens are normalised, then each unknown token is corrected to the closest word of our
   vocabulary with rapidfuzz (typos: "tapachla" -> "tapachula");
2. an inverted index gives the examples that share a word with it, and a cheap weighted
   overlap keeps the best few: fuzzy scoring never runs over every example;
3. each kept example is scored by how much of the example the message covers and how much of
   the message the example explains, every word weighted by its rarity across intents (idf),
   so "tapachula" or "traslado" count more than "donde" or "help";
4. examples vote for their intent; the best intent's score is its confidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.content.catalog import Catalog
from bot.languages import LANGUAGES
from bot.understanding.normalize import Normalizer

SHORTLIST = 60  # examples that get full scoring
MIN_CORRECTABLE = 4  # shorter words are not typo-corrected: too many false friends
CORRECTION_CUTOFF = 80.0
OTHER_LANGUAGE_FACTOR = 0.92  # an example in another language explains a little less


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """Ranked intents (best first) and the places the message names."""

    candidates: tuple[Candidate, ...]
    places: tuple[str, ...] = ()
    tokens: tuple[str, ...] = field(default=(), repr=False)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class _Example:
    intent: str
    lang: str
    weights: dict[str, float]
    total: float


class IntentMatcher:
    """An index over every example of every intent; built once per content version."""

    def __init__(self, catalog: Catalog, normalizer: Normalizer) -> None:
        self._normalizer = normalizer
        self._topic = {i.id: i.topic for i in catalog.intents.values()}
        token_sets: list[tuple[str, str, set[str]]] = []
        intents_with: dict[str, set[str]] = defaultdict(set)
        for intent in catalog.intents.values():
            for lang in LANGUAGES:
                for text in intent.examples.get(lang, []):
                    tokens = set(normalizer.content_tokens(text, lang))
                    if tokens:
                        token_sets.append((intent.id, lang, tokens))
                        for token in tokens:
                            intents_with[token].add(intent.id)
        n_intents = max(len(catalog.intents), 1)
        self._idf = {t: math.log(1 + n_intents / len(ids)) for t, ids in intents_with.items()}
        # A word we have never seen may be the heart of an off-topic question.
        self._unknown_weight = math.log(1 + n_intents / 2)
        self._examples: list[_Example] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        for intent_id, lang, tokens in token_sets:
            weights = {t: self._idf[t] for t in tokens}
            index = len(self._examples)
            self._examples.append(_Example(intent_id, lang, weights, sum(weights.values())))
            for token in tokens:
                self._postings[token].append(index)
        self._by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for token in self._idf:
            self._by_shape[(token[0], len(token))].append(token)
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
        tokens = self._normalizer.content_tokens(text, lang)
        known: dict[str, float] = {}  # corrected token -> similarity (0..1)
        unknown = 0
        for token in tokens:
            corrected = self._correct(token)
            if corrected is None:
                unknown += 1
                continue
            word, similarity = corrected
            known[word] = max(similarity, known.get(word, 0.0))
        places = self._find_places(tokens)
        if not known:
            return MatchResult((), places, tuple(tokens))
        message_weight = sum(self._idf[w] for w in known) + unknown * self._unknown_weight
        shortlist = self._shortlist(known)
        by_intent: dict[str, list[float]] = defaultdict(list)
        for index in shortlist:
            example = self._examples[index]
            shared = sum(
                example.weights[w] * sim for w, sim in known.items() if w in example.weights
            )
            covers_example = shared / example.total
            explains_message = shared / message_weight
            score = _f_beta(covers_example, explains_message, beta=1.6)
            if lang and example.lang != lang:
                score *= OTHER_LANGUAGE_FACTOR
            by_intent[example.intent].append(score)
        ranked = sorted(
            (Candidate(intent, _vote(scores)) for intent, scores in by_intent.items()),
            key=lambda c: -c.score,
        )
        ranked = self._prefer_named_place(ranked, places)
        return MatchResult(tuple(ranked[:limit]), places, tuple(tokens))

    def _shortlist(self, known: dict[str, float]) -> list[int]:
        """Examples sharing the most weight with the message, by a cheap count."""
        overlap: dict[int, float] = defaultdict(float)
        for word, similarity in known.items():
            weight = self._idf[word] * similarity
            for index in self._postings[word]:
                overlap[index] += weight
        if len(overlap) <= SHORTLIST:
            return list(overlap)
        return sorted(
            overlap, key=lambda i: -overlap[i] / math.sqrt(self._examples[i].total)
        )[:SHORTLIST]

    def _correct_uncached(self, token: str) -> tuple[str, float] | None:
        if token in self._idf:
            return token, 1.0
        if len(token) < MIN_CORRECTABLE or token.isdigit():
            return None
        choices = [
            word
            for size in (len(token) - 1, len(token), len(token) + 1)
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


def _f_beta(recall: float, precision: float, beta: float) -> float:
    """Weights coverage of the example (recall) above explaining the whole message."""
    if recall <= 0 or precision <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def _vote(scores: list[float]) -> float:
    """The best example decides; a second good example of the same intent adds a little."""
    scores.sort(reverse=True)
    best = scores[0]
    if len(scores) > 1:
        best += 0.1 * scores[1] * (1 - best)
    return min(best, 1.0)
