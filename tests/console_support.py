"""Helpers for the console tests: an app on a fresh database and a writable content copy,
signing in as an editor, and a little usage to chart."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine as Database
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bot.app import build_engine
from bot.config import PROJECT_ROOT, Settings
from bot.console.app import create_app
from bot.console.auth import issue_login_link
from bot.dialog.engine import Engine
from bot.live import LiveContent
from bot.storage.database import make_engine, upgrade
from bot.storage.models import ConversationEvent, Person, Ticket, UnansweredQuestion

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
BASE = "http://testserver"


@dataclass
class Setup:
    settings: Settings
    database: Database
    live: LiveContent
    client: TestClient

    @property
    def content(self) -> Path:
        return self.settings.content_dir


@contextmanager
def console_setup(tmp_path: Path, engine: Engine) -> Iterator[Setup]:
    """The console on its own database and content copy; `engine` (built from the shipped
    content, which the copy equals) serves until a save reloads. The database is disposed
    afterwards (an unclosed SQLite connection is an error under Python 3.13)."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        button_secret="test-secret",
        content_dir=content,
        console_url=BASE,
    )
    database = make_engine(settings.database_url)
    upgrade(database)
    live = LiveContent(settings, engine, lambda: build_engine(settings).engine)
    client = TestClient(create_app(settings, database, live), base_url=BASE)
    try:
        yield Setup(settings, database, live, client)
    finally:
        client.close()
        database.dispose()


def link(setup: Setup, editor: str = "Ana") -> str:
    return issue_login_link(setup.database, editor, BASE).removeprefix(BASE)


def sign_in(setup: Setup, editor: str = "Ana") -> str:
    """Signs the client in with a fresh link; returns the CSRF token of its session."""
    response = setup.client.post(link(setup, editor), follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(setup.client.get("/").text)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def seed_usage(database: Database, now: dt.datetime) -> None:
    """Three people over two days, in two languages, an unanswered question asked twice, a
    handoff answered after 5 minutes and rated 👍."""
    with Session(database) as session, session.begin():
        for user_id, lang in ((1, "es"), (2, "es"), (3, "ht")):
            session.add(Person(user_id=user_id, language=lang, first_seen=now, last_seen=now))
        session.flush()
        for user_id, lang, days_ago, intent in (
            (1, "es", 0, "asylum_mexico"),
            (1, "es", 1, "asylum_mexico"),
            (2, "es", 0, None),
            (3, "ht", 0, "care_centers"),
        ):
            session.add(
                ConversationEvent(
                    user_id=user_id,
                    at=now - dt.timedelta(days=days_ago),
                    direction="in",
                    kind="text",
                    language=lang,
                    intent=intent,
                    text="secret words",
                )
            )
        for user_id in (2, 1):
            session.add(
                UnansweredQuestion(
                    user_id=user_id,
                    at=now,
                    language="es",
                    text="donde puedo cambiar dolares a pesos",
                )
            )
        session.add(
            Ticket(
                user_id=3,
                language="ht",
                reason="asked",
                urgent=False,
                status="closed",
                opened_at=now - dt.timedelta(hours=1),
                first_reply_at=now - dt.timedelta(hours=1) + dt.timedelta(minutes=5),
                rating="up",
            )
        )


def seed_weeks(database: Database, now: dt.datetime, days: int = 14) -> None:
    """A fortnight of made-up but plausible use, for charts worth looking at (screenshots)."""
    languages = ("es", "es", "es", "ht", "ht", "fr", "en")
    intents = (
        "asylum_mexico",
        "care_centers",
        "asylum_after_applying",
        "health_care",
        "humanitarian_visa_work",
        None,
        "scams",
        "travel_in_mexico",
    )
    questions = (
        ("es", "hay casilleros para guardar mochila"),
        ("es", "donde puedo cargar el celular"),
        ("ht", "kote m ka chaje telefòn mwen"),
        ("fr", "ou je peux charger mon tel"),
        ("es", "donde venden chanclas"),
    )
    with Session(database) as session, session.begin():
        for user_id in range(100, 160):
            lang = languages[user_id % len(languages)]
            session.add(Person(user_id=user_id, language=lang, first_seen=now, last_seen=now))
        session.flush()
        for i in range(days * 23):
            user_id = 100 + (i * 7) % 60
            at = now - dt.timedelta(days=(i * 5) % days, minutes=i % 600)
            session.add(
                ConversationEvent(
                    user_id=user_id,
                    at=at,
                    direction="in",
                    kind="text",
                    language=languages[user_id % len(languages)],
                    intent=intents[i % len(intents)],
                    text=None,
                )
            )
        for i, (lang, text) in enumerate(questions * 2):
            session.add(
                UnansweredQuestion(
                    user_id=100 + i, at=now - dt.timedelta(hours=i), language=lang, text=text
                )
            )
        for i in range(9):
            opened = now - dt.timedelta(days=i % days, hours=2)
            session.add(
                Ticket(
                    user_id=100 + i,
                    language=languages[i % len(languages)],
                    reason=("asked", "not_understood", "emergency")[i % 3],
                    urgent=i % 3 == 2,
                    status="waiting" if i < 2 else "closed",
                    opened_at=opened,
                    first_reply_at=None if i < 2 else opened + dt.timedelta(minutes=3 + 4 * i),
                    rating=(None, "up", "up", "down")[i % 4] if i >= 2 else None,
                )
            )
