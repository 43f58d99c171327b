"""The Telegram adapter in process: replies drawn within Telegram's limits, failures handled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.conversation import Conversation
from bot.dialog.events import Incoming, UserState
from bot.i18n import UiText
from bot.transport.app import build_application
from bot.transport.replies import split_text
from tests.emulator.client import EmulatorClient, run_emulator
from tests.emulator.ptb import BackgroundApplication


def test_long_text_is_split_at_paragraphs_within_the_limit() -> None:
    paragraphs = ["word " * 150 for _ in range(12)]  # ~9000 characters
    pieces = split_text("\n\n".join(paragraphs), limit=4096)
    assert len(pieces) == 3
    assert all(len(p) <= 4096 for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == "".join(paragraphs).replace(
        " ", ""
    )


def test_text_without_any_space_is_still_cut() -> None:
    assert [len(p) for p in split_text("x" * 5000, limit=4096)] == [4096, 904]


class _Broken(Conversation):
    """A conversation whose storage is down."""

    def __init__(self) -> None:
        pass

    def handle(self, incoming: Incoming):  # type: ignore[no-untyped-def]
        raise ConnectionError("database unreachable")

    def state_of(self, user_id: int) -> UserState:
        raise ConnectionError("database unreachable")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


def _application(emulator: EmulatorClient, conversation: Conversation):  # type: ignore[no-untyped-def]
    settings = Settings(
        _env_file=None,
        telegram_bot_token=emulator.token,
        telegram_api_base_url=emulator.bot_api_url,
    )
    return build_application(settings, conversation, UiText(settings.locales_dir))


def test_a_failure_is_logged_and_the_person_told_in_their_language(
    emulator: EmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.user(4242, "Jean", language_code="fr")
    with BackgroundApplication(_application(emulator, _Broken())):
        emulator.send_text(4242, "mon message secret")
        [notice] = emulator.wait_for_messages(4242)
    assert notice["text"].startswith("Désolé, un problème est survenu")
    assert "ConnectionError" in caplog.text
    assert "mon message secret" not in caplog.text


def test_flood_control_is_waited_out_not_dropped(
    emulator: EmulatorClient, conversation: Conversation
) -> None:
    emulator.user(4343, "Ana", language_code="es")
    emulator.flood("sendMessage", times=1, retry_after=1)
    with BackgroundApplication(_application(emulator, conversation)):
        emulator.send_text(4343, "hola")
        [reply] = emulator.wait_for_messages(4343, timeout=15)
    assert reply["text"]
    failed = [c for c in emulator.calls("sendMessage") if not c.get("ok")]
    assert failed and failed[-1]["error_code"] == 429
