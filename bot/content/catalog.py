"""Validated content models; the loader builds them, everything else reads them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from bot.languages import Lang

ID_PATTERN = r"^[a-z][a-z0-9_]{1,40}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a fact comes from, graded as in shared/sources/FACTS-2026.md: A an official
    page, B two independent reports, C one report (said with its caution). D never ships.

    `date` is the day the page says it was published; a page that shows none has
    `retrieved` (the day it was read) instead. `checked` is the day a person last confirmed
    it is still the latest word for its facts: an old source someone vouches for is not
    stale."""

    publisher: str = Field(min_length=2)
    title: str = Field(min_length=2)
    date: dt.date | None = None
    retrieved: dt.date | None = None
    checked: dt.date | None = None
    url: str = Field(pattern=r"^https?://\S+$")
    grade: Literal["A", "B", "C"]

    @model_validator(mode="after")
    def _dated(self) -> Source:
        if self.date is None and self.retrieved is None:
            raise PydanticCustomError("undated", "a source needs a date or a retrieved date")
        return self

    @property
    def as_of(self) -> dt.date:
        """The last day the source is known to hold: the later of the day it was published
        (or, undated, read) and the day a person confirmed it still holds."""
        start = self.date if self.date is not None else self.retrieved
        return max(d for d in (start, self.checked) if d is not None)


class Intent(_Strict):
    """A question people ask, how they ask it, and the answer in each language."""

    id: str = Field(pattern=ID_PATTERN)
    topic: str = Field(pattern=ID_PATTERN)
    title: dict[Lang, str]
    urgent: bool = False
    handoff: bool = False
    small_talk: bool = False  # answered only when the message holds nothing else
    related: list[str] = []
    sources: list[Source]  # empty only for answers that state no fact (a greeting)
    reviewed: dt.date
    answer: dict[Lang, str]
    examples: dict[Lang, list[str]]

    @property
    def only_press(self) -> bool:
        """Every source is one press report (grade C): the answer says so."""
        return bool(self.sources) and all(s.grade == "C" for s in self.sources)


class Place(_Strict):
    """A real, sourced place; unknown facts stay None so nobody reads an invented one. A
    place known only to its town (`precision: town`) is never sent as a map pin."""

    id: str = Field(pattern=ID_PATTERN)
    intent: str
    kind: Literal["asylum_office", "shelter", "clinic"]
    name: dict[Lang, str]
    aliases: list[str] = []
    town: str
    street: str | None = None
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    precision: Literal["town", "exact"] = "town"
    status: Literal["open", "closed", "not_confirmed"]
    serves: dict[Lang, str]
    offers: dict[Lang, str]
    hours: str | None = None
    phone: str | None = None
    sources: list[Source] = Field(min_length=1)
    reviewed: dt.date


class Notice(_Strict):
    """A short text shown with the answers it concerns, only between `from` and `until`
    (both days included): "COMAR is closed from 20 December to 5 January"."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN)
    text: dict[Lang, str]
    concerns: list[str] = Field(min_length=1)  # intent or place ids
    starts: dt.date = Field(alias="from")
    ends: dt.date = Field(alias="until")
    sources: list[Source] = []
    reviewed: dt.date

    def shown_on(self, day: dt.date) -> bool:
        return self.starts <= day <= self.ends


class Notices(_Strict):
    notices: list[Notice] = []


class Topic(_Strict):
    """A main-menu entry that opens a sub-menu of its intents."""

    id: str = Field(pattern=ID_PATTERN)
    title: dict[Lang, str]
    intents: list[str] = Field(min_length=1)


class OutOfScope(_Strict):
    """Questions the bot must not answer with an intent (money transfers, bus prices...):
    when a message is closest to these, the bot says it did not understand and offers a
    person. Staff grow this list from `migrant-bot report unanswered`."""

    source: str = Field(min_length=3)
    reviewed: dt.date
    examples: dict[Lang, list[str]]


class DangerKind(_Strict):
    """One kind of danger (self-harm, kidnapping...) and the ways people say it. Its own
    answer, when given, replaces the emergency answer (self-harm is spoken to gently)."""

    id: str = Field(pattern=ID_PATTERN)
    answer: dict[Lang, str] = {}
    expressions: dict[Lang, list[str]]


class Danger(_Strict):
    """Expressions that always get the emergency numbers first, whatever the matcher
    thinks; `not_danger` look-alikes ("me muero de hambre") are taken out of a message
    before the expressions are looked for, and so is danger told as the `past` ("me asaltaron
    hace dos años en honduras"). `ordinary` messages share danger's words but are
    not danger ("la policía me pidió mis papeles"): the danger score learns them as not
    danger, and nothing is cut out of a message for them. `cries` are whole messages that
    are only a call for help ("ayuda por favor"): the numbers come first, before the menu."""

    source: str = Field(min_length=3)
    reviewed: dt.date
    kinds: list[DangerKind] = Field(min_length=1)
    not_danger: dict[Lang, list[str]] = {}
    past: dict[Lang, list[str]] = {}
    ordinary: dict[Lang, list[str]] = {}
    stories: dict[Lang, list[str]] = {}
    cries: dict[Lang, list[str]] = {}


class Lexicon(_Strict):
    """How people of one language really spell words, and which words carry no meaning."""

    language: Lang | Literal["all"]
    replacements: dict[str, str] = {}
    stopwords: list[str] = []


@dataclass(frozen=True)
class Catalog:
    """Everything loaded from one content folder, already cross-checked."""

    intents: dict[str, Intent]
    places: dict[str, Place]
    topics: dict[str, Topic]
    lexicons: dict[str, Lexicon]
    version: str
    out_of_scope: dict[str, list[str]] = field(default_factory=dict)
    danger: Danger | None = None
    notices: tuple[Notice, ...] = ()

    def intent(self, intent_id: str) -> Intent | None:
        return self.intents.get(intent_id)
