"""Shared fixtures: the shipped content, one engine per session, a fresh database per test."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from bot.app import build_conversation, build_engine
from bot.config import PROJECT_ROOT, Settings
from bot.content.catalog import Catalog
from bot.content.loader import load_catalog
from bot.conversation import Conversation
from bot.dialog.engine import Engine
from bot.storage.database import make_engine, upgrade
from bot.storage.store import Store
from bot.understanding.classifier import ALL_EXTRAS
from bot.understanding.danger_score import danger_training_key
from bot.understanding.model_cache import training_key

CONTENT = PROJECT_ROOT / "content"


def pytest_sessionstart(session: pytest.Session) -> None:
    """With pytest-xdist, the models are trained once here, before the workers start: they
    (and the bot processes the tests start) then load them from the one cache folder instead
    of each training the same model at once."""
    if _WORKER or not session.config.getoption("numprocesses", None):
        return
    settings = Settings(_env_file=None)
    catalog = load_catalog(settings.content_dir)
    folder = settings.model_cache_dir
    wanted = [
        folder / f"intents-{training_key(catalog, ALL_EXTRAS)}.pickle",
        folder / f"danger-{danger_training_key(catalog)}.pickle",
    ]
    if not all(path.is_file() for path in wanted) or not any(folder.glob("language-*.pickle")):
        build_engine(settings).engine.reader.detector.warm_up()


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


BASE_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Each pytest-xdist worker empties a database of its own ("test_gw0", "test_gw1"...).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_BASE = make_url(BASE_POSTGRES_URL)
POSTGRES_URL = (
    _BASE.set(database=f"{_BASE.database}_{_WORKER}").render_as_string(hide_password=False)
    if _WORKER
    else BASE_POSTGRES_URL
)


@functools.cache
def _create_worker_database() -> None:
    """The worker's database, created beside the base one the first time."""
    name = make_url(POSTGRES_URL).database
    base = create_engine(BASE_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with base.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        base.dispose()


def _fresh_postgres() -> Database:
    """The test PostgreSQL database, emptied; required (never skipped) when CI=true."""
    database = make_engine(POSTGRES_URL)
    try:
        if _WORKER:
            _create_worker_database()
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
