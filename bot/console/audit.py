"""The record of changes: every save from the console says who made it, when, and what."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.reports import as_utc
from bot.storage.models import ConsoleChange


@dataclass(frozen=True)
class Change:
    at: dt.datetime
    editor: str
    action: str
    detail: str


def record(database: Engine, editor: str, action: str, detail: str) -> None:
    with Session(database) as session, session.begin():
        session.add(
            ConsoleChange(at=dt.datetime.now(dt.UTC), editor=editor, action=action, detail=detail)
        )


def recent(database: Engine, limit: int = 200) -> list[Change]:
    """The latest changes, newest first."""
    with Session(database) as session:
        rows = session.scalars(
            select(ConsoleChange).order_by(ConsoleChange.id.desc()).limit(limit)
        ).all()
        return [Change(as_utc(r.at), r.editor, r.action, r.detail) for r in rows]
