"""Content updates without a restart: validated first, swapped whole, never broken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database

from bot.app import build_conversation, build_engine
from bot.config import Settings
from bot.dialog.events import Incoming, TextEvent
from bot.storage.database import make_engine


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    database = make_engine(f"sqlite:///{tmp_path / 'reload.sqlite3'}")
    yield database
    database.dispose()


def _conversation(settings: Settings, content: Path, database: Database):  # type: ignore[no-untyped-def]
    local = settings.model_copy(update={"content_dir": content})
    return build_conversation(local, build_engine(local), database)


def _answer(conversation, text: str) -> str:  # type: ignore[no-untyped-def]
    turn = conversation.handle(Incoming(1, TextEvent(text), "en"))
    return turn.replies[0].text


def test_an_edited_answer_is_served_after_a_reload(
    settings: Settings, content_copy: Path, sqlite: Database
) -> None:
    conversation = _conversation(settings, content_copy, sqlite)
    before = _answer(conversation, "what is cbp one")
    assert conversation.content.reload_if_changed() is None  # nothing changed yet
    file = content_copy / "intents" / "cbp_one.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("CBP One was an app", "CBP One was an application"), "utf-8")
    result = conversation.content.reload_if_changed()
    assert result is not None and result.changed and not result.problems
    after = _answer(conversation, "what is cbp one")
    assert after != before and "CBP One was an application" in after


def test_broken_content_never_replaces_good_content(
    settings: Settings, content_copy: Path, sqlite: Database
) -> None:
    conversation = _conversation(settings, content_copy, sqlite)
    version = conversation.engine.catalog.version
    (content_copy / "intents" / "asylum.yaml").write_text("intents:\n  - id: [broken\n")
    result = conversation.content.reload()
    assert not result.changed and result.version == version
    assert any("asylum.yaml" in str(p) and "cannot be read" in str(p) for p in result.problems)
    assert "COMAR" in _answer(conversation, "how do i ask for asylum in mexico")
