"""One entry point for understanding: language, ranked intents, and what to do with them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.languages import Lang
from bot.understanding.language import Detection, LanguageDetector
from bot.understanding.matcher import IntentMatcher, MatchResult
from bot.understanding.normalize import Normalizer

# Confidence above which the bot answers; between the two it asks "did you mean...?";
# below SUGGEST_AT it says it did not understand. Tuned on the content examples and the
# evaluation set (see README, "Accuracy"); change them only with `migrant-bot eval` at hand.
ANSWER_AT = 0.55
SUGGEST_AT = 0.34
# Two intents this close are a coin toss: ask rather than guess.
AMBIGUOUS_MARGIN = 0.04
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

    def read(self, text: str, fallback_language: Lang | None) -> Reading:
        """Understands `text`; `fallback_language` is used when its language is unclear."""
        detection = self.detector.detect(text)
        lang = message_language(detection) or fallback_language
        match = self.matcher.match(text, lang)
        intent, suggestions = decide(match)
        confidence = match.best.score if match.best else 0.0
        return Reading(detection, match, intent, confidence, suggestions)


def message_language(detection: Detection | None) -> Lang | None:
    """The language the message itself is written in, when it says enough to tell."""
    if detection is None:
        return None
    needed = SHORT_LANGUAGE_SURE if detection.is_short else LANGUAGE_SURE
    return detection.language if detection.confidence >= needed else None


def decide(match: MatchResult) -> tuple[str | None, tuple[str, ...]]:
    """The intent to answer, or none and up to three intents to offer as "did you mean".

    Suggestions are also returned with an answer: they are the runners-up.
    """
    candidates = [c for c in match.candidates if c.score >= SUGGEST_AT]
    if not candidates:
        return None, ()
    best = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if best.score >= ANSWER_AT and best.score - runner_up >= AMBIGUOUS_MARGIN:
        return best.intent, tuple(c.intent for c in candidates[1:3])
    return None, tuple(c.intent for c in candidates[:3])
