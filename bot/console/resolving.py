"""Marking a group of unanswered questions done once an editor turned it into an example:
the questions of that language whose wording the group's example would have gathered."""

from __future__ import annotations

import datetime as dt

from rapidfuzz import fuzz
from sqlalchemy import Engine, select, update

from bot.reports import as_utc
from bot.reports.unanswered import MIN_LENGTH_RATIO, SIMILARITY
from bot.storage.models import UnansweredQuestion
from bot.understanding.normalize import fold


def resolve_group(database: Engine, language: str, example: str, since: dt.datetime) -> int:
    """Marks resolved the open questions since `since` like `example` (the grouping's own
    measure); returns how many."""
    key = fold(" ".join(example.split())) or example
    with database.begin() as connection:
        rows = connection.execute(
            select(UnansweredQuestion.id, UnansweredQuestion.text).where(
                UnansweredQuestion.language == language,
                UnansweredQuestion.resolved_at.is_(None),
                UnansweredQuestion.at >= as_utc(since),
                UnansweredQuestion.text.is_not(None),
            )
        ).all()
        ids = [row_id for row_id, text in rows if text is not None and _alike(key, text)]
        if ids:
            connection.execute(
                update(UnansweredQuestion)
                .where(UnansweredQuestion.id.in_(ids))
                .values(resolved_at=dt.datetime.now(dt.UTC))
            )
    return len(ids)


def _alike(key: str, text: str) -> bool:
    other = fold(" ".join(text.split())) or " ".join(text.split())
    if other == key:
        return True
    shorter, longer = sorted((len(key), len(other)))
    return shorter >= MIN_LENGTH_RATIO * longer and fuzz.token_set_ratio(key, other) >= SIMILARITY
