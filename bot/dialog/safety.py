"""The safety policy: which messages get the emergency numbers first.

It is its own small policy, applied to every text before anything else is decided, in every
state of the conversation (a handoff included). Three nets, any one is enough: a danger
expression from the content; an urgent intent the classifier answers or has among its
candidates at URGENT_AT or more; the learned danger score (bot/understanding/danger_score.py),
which catches danger said in words no list has. When only a runner-up or the score raises the
alarm, the numbers are put before the answer found instead of replacing it (a sick child who
needs a doctor still gets where to find one). It never lowers what the matcher found; it only
adds the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.content.catalog import Catalog
from bot.languages import Lang
from bot.understanding import danger_score
from bot.understanding.danger import MAX_CHARS, DangerDetector
from bot.understanding.danger_score import DangerScorer
from bot.understanding.reader import Reader, Reading

# A danger score this high raises the alarm; higher when the matcher answers another intent
# (a confident answer is evidence the message asks something else). Chosen by the rule
# bench/danger_nets.py prints: within at least 97.5% recall and at most 10% false alarms in
# every language of danger-dev, danger-dev2 and danger-dev3, since danger-dev5 the most
# danger caught on all five development sets, then the fewest false alarms there, then the
# most the learned nets catch (before it only that last criterion: 0.7 when another intent
# is answered, 0.8 for a while when no setting kept 10%). From 0.5, a long ordinary story
# (tests/test_danger_score.py) alarms.
SCORE_AT = 0.6
SCORE_ANSWERED_AT = 0.8
# An urgent intent among the close candidates this likely raises the alarm too, whatever was
# answered (safety first: the policy is "an urgent intent anywhere among the candidates").
# Chosen by the same rule: 0.6 since danger-dev5 (0.5 catches no more there and alarms on
# "the COMAR queue is murder" in Creole); 0.3 until the second December look-alikes broke
# 10% of false alarms in Creole ("m ap mouri grangou" has emergency at 0.38); from 0.2, a
# short unknown text ("message 2") already alarmed.
URGENT_AT = 0.6
# An urgent intent this likely is what re-reading a message without its look-alikes is for
# (below the alarm's URGENT_AT, so that every threshold bench/danger_nets.py tries sees it).
REREAD_FROM = 0.2


@dataclass(frozen=True)
class Nets:
    """Which of the three nets are cast, and their thresholds; each can be changed or
    switched off to measure what it is worth (bench/danger_nets.py)."""

    expressions: bool = True
    classifier: bool = True
    score: bool = True
    urgent_at: float | None = URGENT_AT  # a runner-up urgent intent this likely alarms
    score_at: float = SCORE_AT
    score_answered_at: float = SCORE_ANSWERED_AT


ALL_NETS = Nets()


@dataclass(frozen=True)
class Alarm:
    """Why a message gets the numbers: a danger kind from the content (None when only the
    classifier or the score saw it) and the urgent intent to answer with."""

    intent: str
    kind: str | None
    certain: bool  # a danger expression, or the matcher's own answer: the emergency answer


class SafetyPolicy:
    def __init__(self, catalog: Catalog, reader: Reader, nets: Nets = ALL_NETS) -> None:
        self._nets = nets
        self._reader = reader
        self._normalizer = reader.normalizer
        self._detector = DangerDetector(catalog.danger, reader.normalizer)
        self._urgent = tuple(i.id for i in catalog.intents.values() if i.urgent)
        self._scorer = (
            danger_score.load_or_train(catalog, reader.normalizer, reader.model_cache)
            if nets.score and self._urgent
            else None
        )

    def without_look_alikes(self, text: str, reading: Reading) -> Reading:
        """The reading to judge and answer by: when an urgent intent is likely and the text
        holds a look-alike ("es peligroso el camino a oaxaca?", "el mes pasado me robaron,
        puedo denunciar?"), the reading of the rest of it, as the expressions and the score
        read it; the classifier learnt danger's words, not which figure of speech or past
        story they are in."""
        if self._urgency(reading) < REREAD_FROM:
            return reading
        lang = reading.detection.language if reading.detection else None
        tokens = self._normalizer.tokens(text, lang, MAX_CHARS)
        kept = self._detector.without_look_alikes(tokens, lang)
        if len(kept) == len(tokens):
            return reading
        rest = self._reader.read(" ".join(kept), lang)
        # What is left can be a fragment the classifier guesses on ("watched a about last
        # night so scary"): it is only believed when it lowers the urgency.
        if self._urgency(rest) >= self._urgency(reading):
            return reading
        return replace(rest, detection=reading.detection)

    def _urgency(self, reading: Reading) -> float:
        """How likely the classifier finds an urgent intent (1 when it answers one)."""
        if reading.intent in self._urgent:
            return 1.0
        return max(
            (c.score for c in reading.match.candidates if c.intent in self._urgent), default=0.0
        )

    def assess(self, text: str, reading: Reading) -> Alarm | None:
        """The alarm for this message, or None when nothing in it suggests danger."""
        if not self._urgent:
            return None
        if self._nets.expressions and (found := self._detector.find(text)) is not None:
            return Alarm(self._urgent[0], found.kind, certain=True)
        if self._nets.expressions and self._detector.is_cry(text):
            # Nothing but a call for help: the numbers, then the menu it was read as.
            return Alarm(self._urgent[0], None, certain=False)
        if self._nets.classifier:
            # An urgent intent the classifier answers, or finds likely enough.
            if reading.intent is not None and reading.intent in self._urgent:
                return Alarm(reading.intent, None, certain=True)
            if (runner_up := self._urgent_runner_up(reading)) is not None:
                return Alarm(runner_up, None, certain=False)
        if self._scorer is not None:
            lang = reading.detection.language if reading.detection else None
            answered = reading.intent is not None and reading.intent not in self._urgent
            needed = self._nets.score_answered_at if answered else self._nets.score_at
            if self._score(self._scorer, text, lang) >= needed:
                return Alarm(self._urgent[0], None, certain=reading.intent in self._urgent)
        return None

    def _score(self, scorer: DangerScorer, text: str, lang: Lang | None) -> float:
        """The danger score of the text; when it holds a look-alike ("i'm dying to know"), the
        lower of the scores with and without it: the figure of speech alone must not raise
        the alarm, nor the few words left around it once it is cut out ("je suis ... mdr")."""
        tokens = self._normalizer.tokens(text, lang, MAX_CHARS)
        kept = self._detector.without_look_alikes(tokens, lang)
        score = scorer.score(tokens)
        return score if len(kept) == len(tokens) else min(score, scorer.score(kept))

    def _urgent_runner_up(self, reading: Reading) -> str | None:
        """An urgent intent among the candidates at least `urgent_at` likely, when counted."""
        urgent_at = self._nets.urgent_at
        if urgent_at is None:
            return None
        for candidate in reading.match.candidates:
            if candidate.intent in self._urgent and candidate.score >= urgent_at:
                return candidate.intent
        return None
