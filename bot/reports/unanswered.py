"""The content editors' to-do list: questions the bot could not answer, similar ones grouped,
per language, biggest group first."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, select

from bot.reports import as_utc
from bot.storage.models import UnansweredQuestion
from bot.understanding.normalize import fold

DELETED_TEXT = "(text deleted after the retention period)"
UNKNOWN_LANGUAGE = "?"
# token_set_ratio on folded text: word order, accents, case and punctuation do not matter, and
# a typo or an extra word costs little. 80 keeps "necesito un abogado" and "necesito un doctor"
# (76) apart while "cuanto cuesta el bus a cdmx" joins "...el autobus a la ciudad de mexico".
SIMILARITY = 80.0
# token_set_ratio gives 100 whenever one text's words are all in the other, so "visa" would
# swallow every question that mentions a visa: the shorter text must be at least this share of
# the longer one.
MIN_LENGTH_RATIO = 0.5
STAFF_EXAMPLE_CHARS = 90  # one line on a phone, roughly


@dataclass(frozen=True)
class QuestionGroup:
    """Similar unanswered questions in one language; `example` is the commonest wording, None
    when their text was deleted after the retention period (they still count)."""

    language: str
    count: int
    example: str | None

    @property
    def label(self) -> str:
        return DELETED_TEXT if self.example is None else self.example


def unanswered_groups(
    engine: Engine, since: dt.datetime, similarity: float = SIMILARITY
) -> list[QuestionGroup]:
    """Every group of questions left unanswered since `since`, biggest first (those an editor
    already turned into examples are done)."""
    query = (
        select(UnansweredQuestion.language, UnansweredQuestion.text)
        .where(UnansweredQuestion.at >= as_utc(since), UnansweredQuestion.resolved_at.is_(None))
        .order_by(UnansweredQuestion.id)
    )
    with engine.connect() as connection:
        rows = [(language, text) for language, text in connection.execute(query)]
    return group_questions(rows, similarity)


def top_unanswered(engine: Engine, since: dt.datetime, limit: int = 10) -> list[QuestionGroup]:
    """The `limit` biggest groups since `since`: what the staff group's /unanswered shows."""
    return unanswered_groups(engine, since)[:limit]


def format_top_unanswered(groups: Sequence[QuestionGroup], since: dt.datetime) -> str:
    """Short plain text for a Telegram message (no markup to escape); `since` is shown in its
    own time zone, so pass it in the staff's."""
    when = f"{since:%Y-%m-%d %H:%M}"
    if not groups:
        return f"No unanswered questions since {when}."
    lines = [f"Unanswered questions since {when}, biggest first:"]
    for group in groups:
        lines.append(
            f"{group.count}× [{group.language}] {shorten(group.label, STAFF_EXAMPLE_CHARS)}"
        )
    return "\n".join(lines)


def group_questions(
    rows: Iterable[tuple[str | None, str | None]], similarity: float = SIMILARITY
) -> list[QuestionGroup]:
    """Groups (language, text) rows: per language, texts whose folded forms are similar;
    texts deleted after the retention period make one group per language."""
    by_language: dict[str, list[str]] = defaultdict(list)
    deleted: Counter[str] = Counter()
    for language, text in rows:
        lang = language or UNKNOWN_LANGUAGE
        if text is None:
            deleted[lang] += 1
        else:
            by_language[lang].append(text)
    groups = [QuestionGroup(lang, count, None) for lang, count in deleted.items()]
    for lang, texts in by_language.items():
        groups.extend(_cluster(lang, texts, similarity))
    return sorted(groups, key=lambda g: (-g.count, g.language, g.example is None, g.label))


def _cluster(language: str, texts: list[str], similarity: float) -> list[QuestionGroup]:
    """Greedy clustering: the commonest wordings first, each joins the most similar group
    leader or leads a new group, so the result does not depend on the order of arrival."""
    wordings: dict[str, Counter[str]] = defaultdict(Counter)
    as_typed: set[str] = set()
    for text in texts:
        clean = " ".join(text.split())
        key = fold(clean)
        if not key:  # emoji or punctuation only: nothing to compare, keep them as typed
            key = clean
            as_typed.add(key)
        wordings[key][clean] += 1
    keys = sorted(wordings, key=lambda k: (-wordings[k].total(), k))
    leaders: list[str] = []
    members: list[list[str]] = []
    for key in keys:
        index = None if key in as_typed else _most_similar(key, leaders, similarity)
        if index is None:
            leaders.append(key)
            members.append([key])
        else:
            members[index].append(key)
    groups = []
    for keys_in_group in members:
        # The example is the leader's commonest spelling: the wording most people used.
        spellings = wordings[keys_in_group[0]]
        example = min(spellings, key=lambda t: (-spellings[t], t))
        count = sum(wordings[key].total() for key in keys_in_group)
        groups.append(QuestionGroup(language, count, example))
    return groups


def _most_similar(key: str, leaders: list[str], similarity: float) -> int | None:
    matches = process.extract(
        key, leaders, scorer=fuzz.token_set_ratio, score_cutoff=similarity, limit=None
    )
    for leader, _score, index in matches:
        shorter, longer = sorted((len(key), len(leader)))
        if shorter >= MIN_LENGTH_RATIO * longer:
            return int(index)
    return None


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, an ellipsis when something was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
