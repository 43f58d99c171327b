"""One entry point for understanding: language, ranked intents, and what to do with them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.languages import Lang
from bot.understanding.language import Detection, LanguageDetector
from bot.understanding.matcher import OUT_OF_SCOPE, IntentMatcher, MatchResult
from bot.understanding.normalize import Normalizer

# The confidence is the probability that the best intent is right: a logistic curve over the
# matcher's raw score and the margin to the runner-up, fitted on the development set
# (tests/data/dev) by bench/calibrate.py, which prints these three numbers.
CALIBRATION = (-0.826, 6.552, 13.088)
# Above ANSWER_AT the bot answers; between the two it asks "did you mean...?"; below
# SUGGEST_AT it says it did not understand and offers the menu and a person.
ANSWER_AT = 0.55
SUGGEST_AT = 0.25
# Two intents whose scores are this close (relative) are a coin toss: ask, don't guess.
AMBIGUOUS_MARGIN = 0.05
# How much a message's unknown words lower the score (0: not at all).
UNKNOWN_WORDS_PENALTY = 0.5
# A language is taken from a message only when the detector is at least this sure.
LANGUAGE_SURE = 0.6
SHORT_LANGUAGE_SURE = 0.8


@dataclass(frozen=True)
class Reading:
    """What a message says: its language (if any), the intent to answer, or suggestions."""

    detection: Detection | None
    match: MatchResult
    intent: str | None
    confidence: float
    suggestions: tuple[str, ...]


class Reader:
    """Normaliser, language detector and intent matcher built for one content version."""

    def __init__(self, catalog: Catalog) -> None:
        self.normalizer = Normalizer(catalog.lexicons)
        self.detector = LanguageDetector(catalog, self.normalizer)
        self.matcher = IntentMatcher(catalog, self.normalizer)
        self._urgent = frozenset(i.id for i in catalog.intents.values() if i.urgent)

    def read(self, text: str, fallback_language: Lang | None) -> Reading:
        """Understands `text`; `fallback_language` is used when its language is unclear."""
        detection = self.detector.detect(text)
        lang = message_language(detection) or fallback_language
        if lang is None and detection is not None:
            lang = detection.language
        match = self.matcher.match(text, lang)
        if detection is not None and detection.is_short:
            # One or two words say little about their language ("bjr", "grax"): read them
            # with the runner-up language's spellings too, and keep the better reading.
            ranked = sorted(detection.scores, key=detection.scores.__getitem__, reverse=True)
            for other in ranked[:2]:
                if other != lang:
                    alternative = self.matcher.match(text, other)
                    if alternative.best and (
                        match.best is None or alternative.best.score > match.best.score
                    ):
                        match = alternative
        confidence = calibrated(confidence_features(match))
        intent, suggestions = decide(match, confidence, self._urgent)
        return Reading(detection, match, intent, confidence, suggestions)


def message_language(detection: Detection | None) -> Lang | None:
    """The language the message itself is written in, when it says enough to tell."""
    if detection is None:
        return None
    needed = SHORT_LANGUAGE_SURE if detection.is_short else LANGUAGE_SURE
    return detection.language if detection.confidence >= needed else None


def confidence_features(match: MatchResult) -> tuple[float, float]:
    """The best intent's similarity and its lead over the runner-up, both lowered when much
    of the message is unknown to us (a faint match leads by little, whatever the others)."""
    if match.best is None or match.best.score <= 0:
        return 0.0, 0.0
    best = match.best.score
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    known = match.known_share**UNKNOWN_WORDS_PENALTY
    return best * known, (best - runner_up) * known


def relative_margin(match: MatchResult) -> float:
    """How far ahead the best intent is, as a share of its score (0: a tie)."""
    if match.best is None or match.best.score <= 0:
        return 0.0
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    return (match.best.score - runner_up) / match.best.score


def calibrated(features: tuple[float, float]) -> float:
    raw, margin = features
    if raw <= 0:
        return 0.0
    a, b, c = CALIBRATION
    return 1 / (1 + math.exp(-(a + b * raw + c * margin)))


def decide(
    match: MatchResult, confidence: float, urgent: frozenset[str] = frozenset()
) -> tuple[str | None, tuple[str, ...]]:
    """The intent to answer, or none and up to three intents to offer as "did you mean".

    With an answer, the suggestions are the runners-up close to it. When the message is
    closest to the out-of-scope examples nothing is answered or suggested, except an urgent
    intent close behind: danger always gets the numbers.
    """
    if confidence < SUGGEST_AT or match.best is None:
        return None, ()
    best = match.best.score
    close = [c.intent for c in match.candidates if c.score >= 0.75 * best]
    if close[0] == OUT_OF_SCOPE:
        return None, tuple(i for i in close if i in urgent)[:1]
    close = [i for i in close if i != OUT_OF_SCOPE]
    margin = relative_margin(match)
    if confidence >= ANSWER_AT and margin >= AMBIGUOUS_MARGIN:
        return close[0], tuple(close[1:3])
    return None, tuple(close[:3])
