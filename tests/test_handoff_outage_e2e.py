"""The staff group is unreachable when a person asks for help: the person is told the team
will answer later, and everything reaches the operators once the group is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database

from bot.app import Parts
from bot.config import Settings
from bot.storage.database import make_engine
from tests.inprocess import LocalTelegram

OPERATOR, PERSON = 6_000_001, 6_000_002
STAFF = -1_009_990_002


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture
def emulator(settings: Settings, parts: Parts, database: Database) -> Iterator[LocalTelegram]:
    telegram = LocalTelegram(settings.model_copy(update={"staff_chat_id": STAFF}), parts, database)
    yield telegram
    telegram.close()


def test_tickets_wait_in_the_database_until_the_staff_group_is_back(
    emulator: LocalTelegram,
) -> None:
    emulator.user(OPERATOR, "Ana", language_code="es")
    emulator.user(PERSON, "Rose", language_code="ht")
    group = emulator.group(
        "Operadores", members=[OPERATOR], is_forum=True, bot_status="left", chat_id=STAFF
    )
    emulator.send_command(PERSON, "human")
    replies = emulator.wait_for_messages(PERSON, count=3, timeout=0)
    assert replies[-1]["text"].startswith("Ekip nou an pa ka wè mesaj yo kounye a.")
    emulator.send_text(PERSON, "mwen la toujou, tanpri reponn mwen")
    with pytest.raises(TimeoutError):
        emulator.wait_for_messages(group["id"], timeout=0)

    emulator.add_bot_to_group(group["id"], by_user_id=OPERATOR, status="administrator")
    emulator.catch_up()  # the job's next round
    header, relayed = emulator.wait_for_messages(group["id"], count=2, timeout=0)
    assert "#1" in header["text"]
    assert relayed["text"] == "mwen la toujou, tanpri reponn mwen"
    assert relayed["message_thread_id"] == header["message_thread_id"]
