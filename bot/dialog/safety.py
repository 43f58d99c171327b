"""The safety policy: which messages get the emergency numbers first.

It is its own small policy, applied to every text before anything else is decided, in every
state of the conversation (a handoff included): a danger expression from the content, or an
urgent intent that the matcher would answer or offer as "did you mean", is enough. When only
the matcher's suggestions hold it, the numbers are put before the answer it found instead of
replacing it (a sick child who needs a doctor still gets where to find one). (Any urgent
intent within 75% of the best score was tried too: on the danger set it raised false alarms on
look-alikes from 7-20% to 20-40% per language for one more message caught.) It never lowers
what the matcher found; it only adds the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.understanding.danger import DangerDetector
from bot.understanding.reader import Reader, Reading


@dataclass(frozen=True)
class Alarm:
    """Why a message gets the numbers: a danger kind from the content (None when only the
    matcher saw it) and the urgent intent to answer with."""

    intent: str
    kind: str | None
    certain: bool  # a danger expression, or the matcher's own answer: the emergency answer


class SafetyPolicy:
    def __init__(self, catalog: Catalog, reader: Reader) -> None:
        self._detector = DangerDetector(catalog.danger, reader.normalizer)
        self._urgent = tuple(i.id for i in catalog.intents.values() if i.urgent)

    def assess(self, text: str, reading: Reading) -> Alarm | None:
        """The alarm for this message, or None when nothing in it suggests danger."""
        if not self._urgent:
            return None
        found = self._detector.find(text)
        if found is not None:
            return Alarm(self._urgent[0], found.kind, certain=True)
        # The matcher's view: an urgent intent it would answer, or offer as "did you mean".
        for intent in (reading.intent, *reading.suggestions):
            if intent in self._urgent:
                return Alarm(intent, None, certain=intent == reading.intent)
        return None
