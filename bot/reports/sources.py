"""Which answers rest on which source: the editors' list of what to re-check, stalest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.content.catalog import Catalog, Source


@dataclass(frozen=True)
class Use:
    """One intent, place or notice resting on a source, and when a person last checked it."""

    kind: str  # intent, place, notice
    id: str
    reviewed: dt.date


@dataclass(frozen=True)
class SourceUse:
    source: Source
    uses: tuple[Use, ...]

    @property
    def oldest_review(self) -> dt.date:
        return min(use.reviewed for use in self.uses)


def source_uses(catalog: Catalog) -> list[SourceUse]:
    """Every source (one per URL) with what rests on it; the one whose answers were reviewed
    longest ago comes first, then the source published (or confirmed) longest ago."""
    sources: dict[str, Source] = {}
    uses: dict[str, list[Use]] = {}
    entries = [
        *(("intent", i.id, i.reviewed, i.sources) for i in catalog.intents.values()),
        *(("place", p.id, p.reviewed, p.sources) for p in catalog.places.values()),
        *(("notice", n.id, n.reviewed, n.sources) for n in catalog.notices),
    ]
    for kind, entry_id, reviewed, entry_sources in entries:
        for source in entry_sources:
            sources.setdefault(source.url, source)
            uses.setdefault(source.url, []).append(Use(kind, entry_id, reviewed))
    found = [SourceUse(sources[url], tuple(uses[url])) for url in sources]
    return sorted(found, key=lambda s: (s.oldest_review, s.source.as_of, s.source.url))
