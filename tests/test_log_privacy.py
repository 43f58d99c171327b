"""The log filter keeps the README's promise: no token and no library body at any level."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.log_privacy import PrivateLog, json_lines, set_up_logging
from bot.storage.database import make_engine, upgrade

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _logged(name: str, level: int, message: str, *args: object, error: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PrivateLog(TOKEN))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        if error:
            try:
                raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe")
            except RuntimeError:
                logger.exception(message, *args)
        else:
            logger.log(level, message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_the_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    out = _logged("bot.test", logging.WARNING, "set %s", f"https://x/bot{TOKEN}", error=True)
    assert TOKEN not in out
    assert TOKEN.split(":")[1] not in out
    assert "<token>" in out


def test_a_token_shaped_text_is_redacted_even_when_it_is_not_ours() -> None:
    other = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    assert other not in _logged("bot.test", logging.ERROR, "url %s", other)


def test_library_debug_lines_with_bodies_are_dropped_and_ours_are_kept() -> None:
    body = "Call to Bot API endpoint `getUpdates` finished with return value `[{'text': 'hola'}]`"
    assert _logged("telegram.ext.ExtBot", logging.DEBUG, body) == ""
    assert "update 5 handled" in _logged("bot.transport", logging.DEBUG, "update 5 handled")
    assert "getUpdates failed" in _logged("telegram.ext", logging.WARNING, "getUpdates failed")


def test_json_lines_carry_no_token_even_in_a_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PrivateLog(TOKEN))
    handler.setFormatter(json_lines())
    logger = logging.getLogger("bot.json")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe")
        except RuntimeError:
            logger.error("sending failed for %s", f"https://x/bot{TOKEN}", exc_info=True)
    finally:
        logger.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert TOKEN not in line
    assert record["level"] == "ERROR" and record["logger"] == "bot.json"
    assert record["message"] == "sending failed for https://x/bot<token>"
    assert "RuntimeError" in record["exc_info"]


def test_a_first_migration_prints_no_alembic_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The terminal chat of `make run` starts on a new database: Alembic's INFO lines (its
    plugins since 1.17, its steps) would come before the bot's welcome."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    set_up_logging(Settings(_env_file=None, log_level="INFO"))
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    try:
        with caplog.at_level(logging.INFO):
            upgrade(engine)
    finally:
        engine.dispose()
        root.setLevel(level)
        root.handlers[:] = handlers
    assert [r.name for r in caplog.records if r.name.startswith("alembic")] == []
