"""The hand-built matcher the trained classifier replaced (as of commit eeb88ca), kept as an
anchor for bench/understanding.py: the bench shows the new model beside it on the same messages.

Finds the intent a message asks for, with a confidence that says how sure it is.

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

import math
import threading
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.catalog import Catalog
from bot.languages import LANGUAGES
from bot.understanding.normalize import Normalizer

# Its reading rule (bot/understanding/reader.py at eeb88ca): a logistic curve over the raw
# score and margin, fitted then on tests/data/dev, with its thresholds.
CALIBRATION = (-0.826, 6.552, 13.088)
ANSWER_AT = 0.55
AMBIGUOUS_MARGIN = 0.05
UNKNOWN_WORDS_PENALTY = 0.5

# The pseudo-intent of content/out_of_scope.yaml: when it wins, nothing is answered.
OUT_OF_SCOPE = "(out of scope)"
SHORTLIST = 80  # examples that get full scoring
# The shortlist reads the postings of the message's rarest words first and stops after this
# many: common words ("cita", "help") add little and would make cost grow with the content.
POSTINGS_BUDGET = 12000
# Only the intents whose best example comes this high in the ranking get the (costlier)
# centroid comparison.
CENTROID_INTENTS = 12
MIN_CORRECTABLE = 4  # shorter words are not typo-corrected: too many false friends
CORRECTION_CUTOFF = 82.0
NGRAMS = (3, 4, 5)
WORD_WEIGHT = 1.5  # a whole word shared says more than its pieces
NEAREST_SHARE = 0.2  # best example vs. centroid in the similarity
OTHER_LANGUAGE_FACTOR = 0.95  # an example in another language explains a little less
CORRECTED_FACTOR = 0.9  # a corrected word is a little less sure than one typed right
# A town's name says where, not what: "rain in Tapachula" is not about its care center.
PLACE_FACTOR = 0.35
# A greeting yields to any other intent scoring at least this share of it.
SMALL_TALK_YIELD = 0.5

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
class _Rows:
    """Unit vectors as compressed sparse rows: row r is data[indptr[r]:indptr[r + 1]] at
    columns indices[...]. Built with numpy so a 100x content still indexes in seconds."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def dots(self, rows: np.ndarray, dense: np.ndarray) -> np.ndarray:
        """The dot product of each of `rows` with the dense vector, in one pass."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        firsts = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - firsts, lengths) + np.arange(lengths.sum())
        products = self.data[positions] * dense[self.indices[positions]]
        return np.add.reduceat(products, firsts) if len(products) else np.zeros(len(rows))


def _unit_rows(row_of: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int) -> _Rows:
    """Normalises each row to length 1; entries must come sorted by row."""
    norms = np.sqrt(np.bincount(row_of, weights=values * values, minlength=n_rows))
    data = (values / np.where(norms == 0, 1, norms)[row_of]).astype(np.float32)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(row_of, minlength=n_rows))))
    return _Rows(indptr.astype(np.int64), columns.astype(np.int32), data)


class IntentMatcher:
    """An index over every example of every intent; built once per content version.

    `match` reuses two scratch arrays to stay allocation-free; a lock keeps that safe when
    a transport calls it from several threads.
    """

    def __init__(self, catalog: Catalog, normalizer: Normalizer) -> None:
        self._normalizer = normalizer
        self._topic = {i.id: i.topic for i in catalog.intents.values()}
        self._small_talk = {i.id for i in catalog.intents.values() if i.small_talk}
        self._intents: list[str] = [*catalog.intents, OUT_OF_SCOPE]
        intent_number = {intent: n for n, intent in enumerate(self._intents)}
        self._feature_ids: dict[str, int] = {}
        self._place_words = {
            token
            for place in catalog.places.values()
            for alias in (*place.aliases, place.town.split(",")[0])
            for token in normalizer.tokens(alias, None)
        }
        rows, columns, counts = array("i"), array("i"), array("f")
        example_intent, example_lang = array("i"), list[str]()
        self._postings: dict[str, list[int]] = defaultdict(list)
        labelled = [
            (intent.id, lang, text)
            for intent in catalog.intents.values()
            for lang in LANGUAGES
            for text in intent.examples.get(lang, [])
        ] + [
            (OUT_OF_SCOPE, lang, text)
            for lang, texts in catalog.out_of_scope.items()
            for text in texts
        ]
        for intent_id, lang, text in labelled:
            tokens = normalizer.content_tokens(text, lang)
            if not tokens:
                continue
            row = len(example_lang)
            example_intent.append(intent_number[intent_id])
            example_lang.append(lang)
            for token in set(tokens):
                self._postings[token].append(row)
            for feature, weight in self._features(tokens).items():
                rows.append(row)
                columns.append(self._feature_ids.setdefault(feature, len(self._feature_ids)))
                counts.append(weight)
        self._example_intent = np.frombuffer(example_intent, dtype=np.int32)
        self._example_lang = example_lang
        self._posting_arrays = {t: np.array(r, dtype=np.int64) for t, r in self._postings.items()}
        row_of = np.frombuffer(rows, dtype=np.int32)
        column_of = np.frombuffer(columns, dtype=np.int32)
        n_examples, n_features = len(example_lang), len(self._feature_ids)
        self._n = max(n_examples, 1)
        document_frequency = np.bincount(column_of, minlength=n_features)
        self._idf = np.log(self._n / np.maximum(document_frequency, 1))
        self._unseen_idf = math.log(self._n)
        is_word = np.zeros(n_features, dtype=bool)
        is_word[[i for f, i in self._feature_ids.items() if f.startswith("w:")]] = True
        self._is_word = is_word
        weights = np.frombuffer(counts, dtype=np.float32) * self._idf[column_of]
        weights = np.where(is_word[column_of], weights * WORD_WEIGHT, weights)
        self._examples = _unit_rows(row_of, column_of, weights, n_examples)
        # Centroids: all examples of an intent summed, then normalised.
        intent_of = self._example_intent[row_of].astype(np.int64)
        keys, inverse = np.unique(intent_of * n_features + column_of, return_inverse=True)
        sums = np.bincount(inverse, weights=self._examples.data)
        self._centroids = _unit_rows(
            (keys // n_features).astype(np.int64), keys % n_features, sums, len(self._intents)
        )
        self._dense = np.zeros(n_features, dtype=np.float32)
        self._overlap = np.zeros(n_examples, dtype=np.float32)
        self._words = set(self._postings)
        # Typos are corrected towards words seen at least twice: a word seen once is as
        # likely a typo itself, and skipping them keeps correction fast on large content.
        self._by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word, found_in in self._postings.items():
            if len(found_in) > 1:
                self._by_shape[(word[0], len(word))].append(word)
        # A place's own names point to its intent; a town does only when every place there
        # has the same one (Tapachula has an asylum office, shelters and a clinic: it says
        # where, not what).
        towns: dict[str, set[str]] = defaultdict(set)
        for place in catalog.places.values():
            towns[place.town.split(",")[0].lower()].add(place.intent)
        self._places = [
            (place.intent, alias.lower())
            for place in catalog.places.values()
            for alias in place.aliases
        ] + [(next(iter(intents)), town) for town, intents in towns.items() if len(intents) == 1]
        self._correct = lru_cache(maxsize=20000)(self._correct_uncached)
        self._lock = threading.Lock()

    @property
    def example_count(self) -> int:
        return len(self._example_lang)

    def match(self, text: str, lang: str | None, limit: int = 5) -> MatchResult:
        """Ranks intents for `text` read as language `lang` (None: no lexicon applied)."""
        with self._lock:
            return self._match(text, lang, limit)

    def _match(self, text: str, lang: str | None, limit: int) -> MatchResult:
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
        weights = {
            t: self._weight_of("w:" + t) * (PLACE_FACTOR if t in self._place_words else 1.0)
            for t in set(tokens)
        }
        known_share = sum(w * certainty[t] for t, w in weights.items()) / sum(weights.values())
        shortlist = self._shortlist(weights, certainty)
        if not len(shortlist):
            return MatchResult((), places, known_share, tuple(tokens))
        ids, values = self._message_vector(tokens, certainty)
        self._dense[ids] = values
        try:
            nearest = self._examples.dots(shortlist, self._dense)
            intents = self._example_intent[shortlist]
            if lang:
                other = np.fromiter((self._example_lang[i] != lang for i in shortlist), dtype=bool)
                nearest = np.where(other, nearest * OTHER_LANGUAGE_FACTOR, nearest)
            best: dict[int, float] = {}
            for intent, similarity in zip(intents.tolist(), nearest.tolist(), strict=True):
                if similarity > best.get(intent, -1.0):
                    best[intent] = similarity
            leaders = sorted(best, key=best.__getitem__, reverse=True)[:CENTROID_INTENTS]
            numbers = np.array(leaders, dtype=np.int64)
            centroid = self._centroids.dots(numbers, self._dense)
        finally:
            self._dense[ids] = 0.0
        ranked = sorted(
            (
                Candidate(
                    self._intents[number],
                    NEAREST_SHARE * best[number] + (1 - NEAREST_SHARE) * float(centre),
                )
                for number, centre in zip(numbers.tolist(), centroid, strict=True)
            ),
            key=lambda c: -c.score,
        )
        ranked = self._prefer_substance(self._prefer_named_place(ranked, places))
        return MatchResult(tuple(ranked[:limit]), places, known_share, tuple(tokens))

    def _features(self, tokens: list[str]) -> dict[str, float]:
        """Words (prefixed "w:") and the character n-grams of each word with its boundaries,
        each with its term weight (1 + log count), damped for town names."""
        counts: Counter[str] = Counter()
        damped: set[str] = set()
        for token in tokens:
            grams = ["w:" + token]
            padded = f"<{token}>"
            for n in NGRAMS:
                grams.extend(padded[start : start + n] for start in range(len(padded) - n + 1))
            counts.update(grams)
            if token in self._place_words:
                damped.update(grams)
        return {
            feature: (1 + math.log(count)) * (PLACE_FACTOR if feature in damped else 1.0)
            for feature, count in counts.items()
        }

    def _weight_of(self, feature: str) -> float:
        index = self._feature_ids.get(feature)
        return float(self._idf[index]) if index is not None else self._unseen_idf

    def _message_vector(
        self, tokens: list[str], certainty: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The message's known features and weights, normalised over all its features
        (unknown ones only lower the norm: that is what makes off-topic text less similar)."""
        ids: list[int] = []
        values: list[float] = []
        norm = 0.0
        for feature, weight in self._features(tokens).items():
            index = self._feature_ids.get(feature)
            weight *= float(self._idf[index]) if index is not None else self._unseen_idf
            if feature.startswith("w:"):
                weight *= WORD_WEIGHT
                if certainty.get(feature[2:], 1.0) < 1.0:
                    weight *= CORRECTED_FACTOR
            norm += weight * weight
            if index is not None:
                ids.append(index)
                values.append(weight)
        scale = 1 / math.sqrt(norm) if norm else 0.0
        return np.array(ids, dtype=np.int64), np.array(values, dtype=np.float32) * scale

    def _shortlist(self, weights: dict[str, float], certainty: dict[str, float]) -> np.ndarray:
        """Examples sharing the most word weight with the message, by a cheap count over the
        postings of its rarest words."""
        touched: list[np.ndarray] = []
        read = 0
        try:
            for word in sorted(weights, key=weights.__getitem__, reverse=True):
                rows = self._posting_arrays.get(word)
                if rows is None or (touched and read + len(rows) > POSTINGS_BUDGET):
                    continue
                self._overlap[rows] += weights[word] * certainty[word]
                touched.append(rows)
                read += len(rows)
            if not touched:
                return np.zeros(0, dtype=np.int64)
            candidates = np.unique(np.concatenate(touched))
            if len(candidates) <= SHORTLIST:
                return candidates
            scores = self._overlap[candidates]
            return candidates[np.argpartition(-scores, SHORTLIST)[:SHORTLIST]]
        finally:
            for rows in touched:
                self._overlap[rows] = 0.0

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
            named = any(fuzz.ratio(t, alias) >= 80 for t in tokens if len(t) >= 4)
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

    def _prefer_substance(self, ranked: list[Candidate]) -> list[Candidate]:
        """A greeting or a thanks is the answer only when the message holds nothing else:
        "hello, where is the center in Tapachula" asks about the center."""
        if not ranked or ranked[0].intent not in self._small_talk:
            return ranked
        for candidate in ranked[1:]:
            if candidate.intent not in self._small_talk:
                if candidate.score >= SMALL_TALK_YIELD * ranked[0].score:
                    return _swap(ranked, candidate.intent)
                break
        return ranked


def _swap(ranked: list[Candidate], intent: str) -> list[Candidate]:
    """Puts `intent` first by exchanging its score with the top one's."""
    top = ranked[0]
    other = next((c for c in ranked if c.intent == intent), Candidate(intent, 0.0))
    rest = [c for c in ranked[1:] if c.intent != intent]
    swapped = [Candidate(top.intent, other.score), *rest]
    return [Candidate(intent, top.score), *sorted(swapped, key=lambda c: -c.score)]


def answer(match: MatchResult) -> str | None:
    """The intent the old reader answered (None: out of scope, "did you mean" or not
    understood)."""
    if match.best is None or match.best.score <= 0 or match.best.intent == OUT_OF_SCOPE:
        return None
    best = match.best.score
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    known = match.known_share**UNKNOWN_WORDS_PENALTY
    a, b, c = CALIBRATION
    confidence = 1 / (1 + math.exp(-(a + b * best * known + c * (best - runner_up) * known)))
    if confidence >= ANSWER_AT and (best - runner_up) / best >= AMBIGUOUS_MARGIN:
        return match.best.intent
    return None
