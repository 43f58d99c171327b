"""One entry point for understanding: language, ranked intents, and what to do with them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.languages import Lang
from bot.understanding.classifier import ALL_EXTRAS, Extras, IntentClassifier
from bot.understanding.language import Detection, LanguageDetector
from bot.understanding.matcher import OUT_OF_SCOPE, Candidate, IntentMatcher, MatchResult
from bot.understanding.model_cache import ModelCache
from bot.understanding.normalize import Normalizer

# Thresholds on the probability of the best intent, chosen on cross-validation folds of the
# content's own examples (bench/calibrate.py prints the curve they come from; the README's
# accuracy section shows it). Above ANSWER_AT the bot answers; between the two it asks "did
# you mean...?"; below SUGGEST_AT it says it did not understand and offers the menu and a
# person.
ANSWER_AT = 0.7
SUGGEST_AT = 0.05
# Two answers are genuinely close, and the bot asks rather than guesses, when the runner-up
# has at least this share of the best one's probability.
CLOSE_SHARE = 0.5
MAX_SUGGESTIONS = 3
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
    """Normaliser, language detector and intent matcher built for one content version.

    The classifier comes from `cache` (trained and stored there on first use) or, without a
    cache, is trained here; the safety policy takes its danger score from the same cache.
    """

    def __init__(
        self,
        catalog: Catalog,
        cache: ModelCache | None = None,
        extras: Extras = ALL_EXTRAS,
        places: bool = True,
    ) -> None:
        self.normalizer = Normalizer(catalog.lexicons)
        self.detector = LanguageDetector(catalog, self.normalizer)
        self.model_cache = cache or ModelCache(None)
        classifier = self.model_cache.load_or_train(catalog, self.normalizer, extras)
        self.matcher = IntentMatcher(catalog, self.normalizer, classifier, places)
        self._small_talk = frozenset(i.id for i in catalog.intents.values() if i.small_talk)
        self._compose = extras.small_talk

    @property
    def classifier(self) -> IntentClassifier:
        return self.matcher.classifier

    def read(self, text: str, fallback_language: Lang | None) -> Reading:
        """Understands `text`; `fallback_language` is used when its language is unclear."""
        detection = self.detector.detect(text)
        lang = message_language(detection) or fallback_language
        if lang is None and detection is not None:
            lang = detection.language
        match = self.matcher.match(text, lang)
        if detection is not None and detection.is_short:
            # One or two words say little about their language ("bjr", "grax"): read them
            # with the runner-up language's spellings too, and keep the surer reading.
            ranked = sorted(detection.scores, key=detection.scores.__getitem__, reverse=True)
            for other in ranked[:2]:
                if other != lang:
                    alternative = self.matcher.match(text, other)
                    if alternative.best and (
                        match.best is None or alternative.best.score > match.best.score
                    ):
                        match = alternative
        small_talk = self._small_talk if self._compose else frozenset()
        intent, suggestions = decide(match, small_talk)
        return Reading(detection, match, intent, confidence(match), suggestions)


def message_language(detection: Detection | None) -> Lang | None:
    """The language the message itself is written in, when it says enough to tell."""
    if detection is None:
        return None
    needed = SHORT_LANGUAGE_SURE if detection.is_short else LANGUAGE_SURE
    return detection.language if detection.confidence >= needed else None


def confidence(match: MatchResult) -> float:
    """The probability of the best intent that could be answered (out of scope aside)."""
    return next((c.score for c in match.candidates if c.intent != OUT_OF_SCOPE), 0.0)


def decide(
    match: MatchResult, small_talk: frozenset[str] = frozenset()
) -> tuple[str | None, tuple[str, ...]]:
    """The intent to answer, or none and up to three intents to offer as "did you mean".

    With an answer, the suggestions are the other intents still likely. When out of scope is
    the likeliest, nothing is answered or suggested (danger is the safety policy's to see,
    bot/dialog/safety.py). A greeting or thanks never makes a question ambiguous.
    """
    likely = [c for c in match.candidates if c.score >= SUGGEST_AT]
    if not likely:
        return None, ()
    if likely[0].intent == OUT_OF_SCOPE:
        return None, ()
    likely = [c for c in likely if c.intent != OUT_OF_SCOPE]
    best = likely[0]
    rivals = [c for c in likely[1:] if best.intent in small_talk or c.intent not in small_talk]
    if best.score >= ANSWER_AT and not _close(best, rivals):
        return best.intent, tuple(c.intent for c in likely[1:MAX_SUGGESTIONS])
    return None, tuple(c.intent for c in likely[:MAX_SUGGESTIONS])


def _close(best: Candidate, rivals: list[Candidate]) -> bool:
    return bool(rivals) and rivals[0].score >= CLOSE_SHARE * best.score
