"""Shared fixtures: the shipped content, one engine per session, a fresh database per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.app import build_conversation, build_engine
from bot.config import PROJECT_ROOT, Settings
from bot.content.catalog import Catalog
from bot.conversation import Conversation
from bot.dialog.engine import Engine
from bot.storage.database import make_engine, upgrade
from bot.storage.store import Store

CONTENT = PROJECT_ROOT / "content"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        _env_file=None,
        database_url="sqlite://",
        button_secret="test-secret",
        staff_chat_id=-1001234567890,
    )


@pytest.fixture(scope="session")
def parts(settings: Settings):  # type: ignore[no-untyped-def]
    return build_engine(settings)


@pytest.fixture(scope="session")
def engine(parts) -> Engine:  # type: ignore[no-untyped-def]
    return parts.engine


@pytest.fixture(scope="session")
def catalog(parts) -> Catalog:  # type: ignore[no-untyped-def]
    return parts.catalog


@pytest.fixture
def store(database) -> Store:  # type: ignore[no-untyped-def]
    upgrade(database)
    return Store(database)


POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _fresh_postgres() -> Database:
    """The test PostgreSQL database, emptied; required (never skipped) when CI=true."""
    database = make_engine(POSTGRES_URL)
    try:
        with database.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as exc:
        database.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    return database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Every storage test runs on both engines: SQLite (the default) and PostgreSQL."""
    if request.param == "sqlite":
        database = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    else:
        database = _fresh_postgres()
    yield database
    database.dispose()


@pytest.fixture
def conversation(settings: Settings, parts, database) -> Conversation:  # type: ignore[no-untyped-def]
    return build_conversation(settings, parts, database)


@pytest.fixture
def content_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the shipped content, to break on purpose."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    yield target
