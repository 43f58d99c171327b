"""Sign-in without passwords: one-time links and sessions, both kept only as hashes.

A link is printed on the server (`migrant-bot console --login-link`) or sent in private after
`/console` in the staff group; it expires after ten minutes and works once. Redeeming it opens
a session whose id travels in a signed cookie; signing out ends it in the database, so a
copied cookie dies with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.reports import as_utc
from bot.storage.models import ConsoleLoginLink, ConsoleSession

LINK_LIFETIME = dt.timedelta(minutes=10)
SESSION_LIFETIME = dt.timedelta(hours=8)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue_login_link(database: Engine, editor: str, base_url: str) -> str:
    """A new one-time sign-in link for `editor` (the name the record of changes shows)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with Session(database) as session, session.begin():
        session.add(
            ConsoleLoginLink(
                token_hash=_hash(token),
                editor=editor,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
    return f"{base_url.rstrip('/')}/login/{token}"


@dataclass(frozen=True)
class SignedIn:
    """An open session: who, and its id (the cookie's content; the CSRF token derives from it)."""

    session_id: str
    editor: str
    expires_at: dt.datetime


def redeem_link(database: Engine, token: str) -> SignedIn | None:
    """Opens a session for a valid link, which is then used up; None for an unknown, expired
    or used link. The update is conditional, so two clicks at once cannot both win."""
    now = _now()
    with Session(database) as session, session.begin():
        used = session.execute(
            update(ConsoleLoginLink)
            .where(
                ConsoleLoginLink.token_hash == _hash(token),
                ConsoleLoginLink.used_at.is_(None),
                ConsoleLoginLink.expires_at > now,
            )
            .values(used_at=now)
            .returning(ConsoleLoginLink.editor)
        ).scalar_one_or_none()
        if used is None:
            return None
        session_id = secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        session.add(
            ConsoleSession(
                id_hash=_hash(session_id), editor=used, created_at=now, expires_at=expires
            )
        )
    return SignedIn(session_id, used, expires)


def session_of(database: Engine, session_id: str) -> SignedIn | None:
    """The open session with this id, or None (unknown, expired, or signed out)."""
    with Session(database) as session:
        row = session.scalar(
            select(ConsoleSession).where(
                ConsoleSession.id_hash == _hash(session_id), ConsoleSession.ended_at.is_(None)
            )
        )
        if row is None or as_utc(row.expires_at) <= _now():
            return None
        return SignedIn(session_id, row.editor, as_utc(row.expires_at))


def end_session(database: Engine, session_id: str) -> None:
    """Signs out: the session stops working at once, wherever its cookie is."""
    with Session(database) as session, session.begin():
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id_hash == _hash(session_id))
            .values(ended_at=_now())
        )


class AttemptLimiter:
    """At most `limit` failed sign-in attempts per client in `window` seconds, then none at
    all until the window has passed (in memory: one console process; a guess at a 256-bit
    link is hopeless anyway, this keeps a guesser from trying for long)."""

    def __init__(self, limit: int = 10, window: float = 600.0) -> None:
        self._limit = limit
        self._window = window
        self._failed: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            failed = self._failed[client]
            while failed and failed[0] <= now - self._window:
                failed.popleft()
            if not failed:
                del self._failed[client]
            return len(failed) >= self._limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._failed[client].append(time.monotonic())
