"""The promise that message text and tokens never reach the log, kept at every LOG_LEVEL.

Our own code logs ids, types and counts only. The libraries do not: at DEBUG,
python-telegram-bot logs every request's parameters and every answer (people's messages,
names, usernames) and httpx logs each URL, which holds the bot token. So a filter on the
handlers drops the libraries' debug lines and redacts anything shaped like a token."""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from bot.config import Settings

# Libraries whose debug lines carry request and answer bodies.
_CHATTY = ("telegram", "httpx", "httpcore", "hpack", "apscheduler")
# A Bot API token: the bot's id, a colon, then (35 today) letters, digits, _ and -.
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")


class PrivateLog(logging.Filter):
    """Drops the libraries' debug records and redacts the token (given, or any token-shaped
    text) from every other record, its arguments and its traceback."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self._token = token or None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and record.name.split(".", 1)[0] in _CHATTY:
            return False
        message = record.getMessage()
        clean = self._redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
            # Formatters that format exc_info again (JSON ones do) get the redacted text.
            record.exc_info = None
        return True

    def _redact(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "<token>")
        return _TOKEN.sub("<token>", text)


def json_lines() -> logging.Formatter:
    """One JSON object a line (LOG_FORMAT=json): time, level, logger, message, and the
    traceback if any, all as the filter above left them."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def keep_logs_private(token: str | None) -> None:
    """Puts the filter on every handler of the root logger (records from child loggers
    reach the handlers without passing the root's own filters)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PrivateLog) for f in handler.filters):
            handler.addFilter(PrivateLog(token))


def set_up_logging(settings: Settings) -> None:
    """LOG_LEVEL and LOG_FORMAT on the root logger, the filter on its handlers, and the
    libraries that log URLs (holding the token) at INFO kept to warnings. Every process
    calls it: the command line, and each webhook worker (uvicorn starts them afresh)."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(json_lines())
    token = settings.telegram_bot_token
    keep_logs_private(token.get_secret_value() if token else None)
    for noisy in ("httpx", "httpcore", "alembic.runtime"):  # its steps and plugins
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
