"""The staff group is unreachable when a person asks for help: the person is told the team
will answer later, and everything reaches the operators once the group is back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from tests.emulator.client import EmulatorClient, run_emulator

OPERATOR, PERSON = 6_000_001, 6_000_002


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


def test_tickets_wait_in_the_database_until_the_staff_group_is_back(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    emulator.user(OPERATOR, "Ana", language_code="es")
    emulator.user(PERSON, "Rose", language_code="ht")
    group = emulator.group("Operadores", members=[OPERATOR], is_forum=True, bot_status="left")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "STAFF_CHAT_ID": str(group["id"]),
        "STAFF_CATCH_UP_SECONDS": "0.5",
    }
    with (tmp_path / "bot.log").open("w") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, stderr=log
        )
    try:
        emulator.wait_for_poller(timeout=30)
        emulator.send_command(PERSON, "human")
        replies = emulator.wait_for_messages(PERSON, count=3)
        assert replies[-1]["text"].startswith("Ekip nou an pa ka wè mesaj yo kounye a.")
        emulator.send_text(PERSON, "mwen la toujou, tanpri reponn mwen")

        emulator.add_bot_to_group(group["id"], by_user_id=OPERATOR, status="administrator")
        header, relayed = emulator.wait_for_messages(group["id"], count=2, timeout=20)
        assert "#1" in header["text"]
        assert relayed["text"] == "mwen la toujou, tanpri reponn mwen"
        assert relayed["message_thread_id"] == header["message_thread_id"]
    finally:
        bot.terminate()
        bot.wait(timeout=10)
