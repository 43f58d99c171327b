"""Finds the intent a message asks for: the trained classifier's ranking, then what only the
content knows, the places it names.

The classifier (bot/understanding/classifier.py) gives every intent a probability. A place's
own name ("Belén", "el CMS-T") then points to that place's intent, and a question about centers
that names one town is about that town's center: a name is an entity, which a bag of words
learns only as well as the examples happen to spell it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.content.catalog import Catalog
from bot.understanding.classifier import OUT_OF_SCOPE, IntentClassifier
from bot.understanding.normalize import Normalizer

__all__ = ["OUT_OF_SCOPE", "Candidate", "IntentMatcher", "MatchResult"]

PLACE_NAME_SIMILARITY = 80  # rapidfuzz ratio at which a word is taken for a place's name
MIN_PLACE_WORD = 4  # shorter words are never taken for a place's name


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float  # the probability that this intent is the one asked for


@dataclass(frozen=True)
class MatchResult:
    """Ranked intents (best first) and the places the message names."""

    candidates: tuple[Candidate, ...]
    places: tuple[str, ...] = ()

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class IntentMatcher:
    """The classifier for one content version, with the content's place names.

    A lock keeps a match whole when a transport calls it from several threads (the
    classifier's typo cache is shared).
    """

    def __init__(
        self,
        catalog: Catalog,
        normalizer: Normalizer,
        classifier: IntentClassifier,
        places: bool = True,
    ) -> None:
        self.classifier = classifier
        self._normalizer = normalizer
        self._topic = {i.id: i.topic for i in catalog.intents.values()}
        # A place's own names point to its intent; a town does only when every place there
        # has the same one (Tapachula has an asylum office, shelters and a clinic: it says
        # where, not what).
        towns: dict[str, set[str]] = defaultdict(set)
        for place in catalog.places.values():
            towns[place.town.split(",")[0].lower()].add(place.intent)
        named = [(p.intent, alias.lower()) for p in catalog.places.values() for alias in p.aliases]
        by_town = [(next(iter(i)), town) for town, i in towns.items() if len(i) == 1]
        self._places = [*named, *by_town] if places else []
        self._lock = threading.Lock()

    def match(self, text: str, lang: str | None, limit: int = 5) -> MatchResult:
        """Ranks intents for `text` read as language `lang` (None: no lexicon applied)."""
        tokens = self._normalizer.tokens(text, lang)
        with self._lock:
            ranked = [Candidate(i, p) for i, p in self.classifier.rank_tokens(tokens)]
        places = self._find_places(tokens)
        return MatchResult(tuple(self._prefer_named_place(ranked, places)[:limit]), places)

    def _find_places(self, tokens: list[str]) -> tuple[str, ...]:
        found: list[str] = []
        for intent, alias in self._places:
            named = any(
                fuzz.ratio(t, alias) >= PLACE_NAME_SIMILARITY
                for t in tokens
                if len(t) >= MIN_PLACE_WORD
            )
            if named and intent not in found:
                found.append(intent)
        return tuple(found)

    def _prefer_named_place(
        self, ranked: list[Candidate], places: tuple[str, ...]
    ) -> list[Candidate]:
        """A question about centers that names one town is about that town's center."""
        if len(places) != 1 or not ranked:
            return ranked
        top = ranked[0].intent
        if top != places[0] and self._topic.get(top) == self._topic.get(places[0]):
            return _swap(ranked, places[0])
        return ranked


def _swap(ranked: list[Candidate], intent: str) -> list[Candidate]:
    """Puts `intent` first by exchanging its score with the top one's."""
    top = ranked[0]
    other = next((c for c in ranked if c.intent == intent), Candidate(intent, 0.0))
    rest = [c for c in ranked[1:] if c.intent != intent]
    swapped = [Candidate(top.intent, other.score), *rest]
    return [Candidate(intent, top.score), *sorted(swapped, key=lambda c: -c.score)]
