"""Settings from environment variables and an optional `.env` (see .env.example).

Every setting is checked when it is read, before anything loads: `load_settings` turns what
is wrong into one plain line per setting, naming the variable and what it expects.

Paths never depend on the current directory. They start from the bot's home folder
(`home()`): MIGRANT_BOT_HOME if set, else the source checkout this code runs from, else
~/.local/share/migrant-bot. `.env` is read there; a relative CONTENT_DIR, LOCALES_DIR,
MODEL_CACHE_DIR or SQLite file is taken inside it; content and catalogs default to the
home's own `content/` and `locales/` when it has them, else to the copies the package ships.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.handoff.hours import BadHours, read_windows, read_zone
from bot.languages import Lang

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the source checkout, if this is one
SHIPPED = Path(__file__).resolve().parent / "shipped"  # content and catalogs, in a wheel
HOME_VARIABLE = "MIGRANT_BOT_HOME"
TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
# A SQLite file named plainly (the default's shape), which `_database` reads without SQLAlchemy.
_PLAIN_SQLITE = re.compile(r"(sqlite(?:\+pysqlite)?):///([A-Za-z0-9_./-]+)")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CONFIG = SettingsConfigDict(extra="ignore", env_ignore_empty=True, validate_default=True)


def home() -> Path:
    """The folder that `.env`, the data and relative paths belong to (see above)."""
    chosen = os.environ.get(HOME_VARIABLE)
    if chosen:
        return Path(chosen).expanduser().resolve()
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "content").is_dir():
        return PROJECT_ROOT
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "migrant-bot"


def _home_or_shipped(name: str) -> Path:
    """The home's own folder, else the one the wheel ships (the checkout's, in a checkout)."""
    for folder in (home() / name, SHIPPED / name):
        if folder.is_dir():
            return folder
    return PROJECT_ROOT / name


# What each setting expects, for the line that says it is wrong: "NAME must be ...".
EXPECTED = {
    "telegram_api_base_url": "an http:// or https:// address, e.g. https://api.telegram.org/bot",
    "database_url": "a database address like sqlite:///data/migrant-bot.sqlite3 or "
    "postgresql+psycopg://user:password@host:5432/dbname",
    "content_dir": "a folder",
    "locales_dir": "a folder",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "retention_days": "a whole number of days, e.g. 30",
    "staff_chat_id": "the operators' group id, a whole number like -1001234567890",
    "staff_language": "one of es, en, fr, ht",
    "handoff_hours": 'days and hours like "mon-fri 09:00-18:00; sat 10:00-14:00"',
    "timezone": "a time zone name like America/Mexico_City",
    "urgent_reminder_minutes": "a whole number of minutes, e.g. 10",
    "tickets_per_hour": "a whole number of tickets from 1, e.g. 3",
    "staff_catch_up_seconds": "a number of seconds above 0, e.g. 15",
    "staff_sees_identity": "true or false",
    "content_check_seconds": "a number of seconds above 0, e.g. 5",
    "webhook_url": "the public https:// address Telegram posts to, "
    "e.g. https://bot.example.org/telegram",
    "webhook_path": "a path starting with /, e.g. /telegram",
    "webhook_host": "an address to listen on, e.g. 127.0.0.1",
    "webhook_port": "a port number from 1 to 65535, e.g. 8080",
    "redis_url": "a Redis address like redis://127.0.0.1:6379/0",
    "metrics_host": "an address to listen on, e.g. 127.0.0.1",
    "metrics_port": "a port number from 1 to 65535, e.g. 9090",
    "log_format": "text or json",
    "console_host": "an address to listen on, e.g. 127.0.0.1",
    "console_port": "a port number from 1 to 65535, e.g. 8090",
    "console_url": "the address editors open, e.g. https://console.example.org",
}
# Never repeated back: secrets, and addresses that may hold a password.
_HIDDEN = {
    "telegram_bot_token", "button_secret", "webhook_secret", "database_url", "redis_url"
}  # fmt: skip


class Settings(BaseSettings):
    """Everything a deployment can change; secrets are SecretStr so they never print."""

    model_config = _CONFIG

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///data/migrant-bot.sqlite3"
    content_dir: Path = Field(default_factory=lambda: _home_or_shipped("content"))
    locales_dir: Path = Field(default_factory=lambda: _home_or_shipped("locales"))
    # Trained intent models, kept so a restart does not train again (safe to delete).
    model_cache_dir: Path = Path("data") / "models"
    button_secret: SecretStr | None = None
    log_level: str = "INFO"
    # Message text older than this is deleted (daily and on `purge`).
    retention_days: int = Field(default=30, ge=1)
    # Human handoff (docs/OPERATORS.md): the operators' Telegram supergroup, their language,
    # when someone is on duty and in which time zone, and when an unclaimed urgent ticket
    # is announced again.
    staff_chat_id: int | None = None
    staff_language: Lang = "es"
    handoff_hours: str = "mon-fri 09:00-18:00"
    timezone: str = "America/Mexico_City"
    urgent_reminder_minutes: int = Field(default=10, ge=1)
    # New tickets one person may open in an hour; past it, their latest ticket reopens.
    tickets_per_hour: int = Field(default=3, ge=1)
    # How often waiting deliveries are retried.
    staff_catch_up_seconds: float = Field(default=15.0, gt=0)
    staff_sees_identity: bool = False  # show operators the person's name and username
    # How often the running bot looks for content edits.
    content_check_seconds: float = Field(default=5.0, gt=0)
    # Webhook mode (`migrant-bot run --webhook`, docs/DEPLOYMENT.md): the public HTTPS URL
    # Telegram posts to, the secret it sends back, and where this process listens.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram"
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Where the workers share Telegram's rate limits; unset: the database (PostgreSQL), or
    # the process itself (SQLite). See bot/transport/ratelimit.py.
    redis_url: str | None = None
    # Polling mode: where /healthz and /metrics are served (unset: not served; webhook mode
    # serves them on WEBHOOK_PORT).
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # "json": one JSON object a line, for a log collector; "text": for people.
    log_format: Literal["text", "json"] = "text"

    def __init__(self, **values: Any) -> None:
        values.setdefault("_env_file", home() / ".env")
        super().__init__(**values)

    @field_validator("content_dir", "locales_dir", "model_cache_dir")
    @classmethod
    def _in_home(cls, value: Path) -> Path:
        return home() / value.expanduser()  # an absolute path stays as it is

    # The staff console (`migrant-bot console`, docs/CONSOLE.md): where it listens, and the
    # address sign-in links point to when it is behind a proxy (default: http://HOST:PORT).
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=8090, ge=1, le=65535)
    console_url: str | None = None

    @field_validator("handoff_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        read_windows(value)  # BadHours is a ValueError: its sentence says what is wrong
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        read_zone(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(EXPECTED["log_level"])
        return value

    @field_validator("telegram_api_base_url", "webhook_url", "console_url")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("not an address")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^rediss?://", value):
            raise ValueError("not a Redis address")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("not a path")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if plain := _PLAIN_SQLITE.fullmatch(value):
            # The default's shape, read without SQLAlchemy: importing it costs `ask` and
            # `check` 0.2 s and 12 MB, for a database they never open.
            scheme, file = plain.groups()
            return f"{scheme}:///{home() / file}"
        # Here, not at the top: `ask`, `check` and `--help` need no database library.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(value)
            url.get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError):
            scheme = value.partition("://")[0] if "://" in value else ""
            raise ValueError(f'got a "{scheme}://" address' if scheme else "") from None
        file = url.database or ":memory:"
        if url.get_backend_name() == "sqlite" and not file.startswith((":memory:", "file:")):
            # A relative file is in the home folder, wherever the bot is started from.
            return url.set(database=str(home() / file)).render_as_string(hide_password=False)
        return value

    def webhook_secret_value(self) -> str | None:
        """The webhook secret, if it is one Telegram accepts (1-256 of A-Z a-z 0-9 _ -)."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        return secret if re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret) else None

    def console_address(self) -> str:
        """Where editors open the console; sign-in links start with it."""
        return (self.console_url or f"http://{self.console_host}:{self.console_port}").rstrip("/")

    def console_key(self) -> bytes:
        """The key that signs console cookies, derived from the button key (no new secret)."""
        return hashlib.sha256(b"migrant-bot console|" + self.button_key()).digest()

    def button_key(self) -> bytes:
        """The key that signs buttons: set, else derived from the token, so every worker
        of one bot agrees without extra configuration."""
        if self.button_secret:
            return self.button_secret.get_secret_value().encode()
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        return hashlib.sha256(f"migrant-bot buttons|{token}".encode()).digest()


class _TokenOnly(BaseSettings):
    """Reads the token alone, to check it even when other settings are wrong."""

    model_config = _CONFIG
    telegram_bot_token: SecretStr | None = None


class BadSettings(Exception):
    """Settings that stop the bot from starting; `problems` holds one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def token_problem(token: SecretStr | None) -> str | None:
    """What is wrong with the shape of a set token, or None (no token is not a problem here:
    the commands that need one explain how to get it)."""
    if token is None or TOKEN_SHAPE.match(token.get_secret_value()):
        return None
    return (
        "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather "
        "(digits, a colon, then letters); check it and try again."
    )


def load_settings(*, needs_token: bool = False, **values: Any) -> Settings:
    """The settings from the environment and `.env` (and `values`), or BadSettings naming
    every problem; with `needs_token`, a token that is set must also look like one."""
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = [_sentence(error) for error in exc.errors()]
    if needs_token:
        token = settings.telegram_bot_token if settings else _token(values)
        problem = token_problem(token)
        if problem:
            problems.insert(0, problem)
    if problems or settings is None:
        raise BadSettings(problems)
    return settings


def _token(values: dict[str, Any]) -> SecretStr | None:
    only = {k: v for k, v in values.items() if k in ("_env_file", "telegram_bot_token")}
    only.setdefault("_env_file", home() / ".env")
    try:
        return _TokenOnly(**only).telegram_bot_token
    except ValidationError:
        return None


def _sentence(error: Any) -> str:
    """One pydantic error as `NAME must be what we expect (got "what was written")`."""
    field = str(error["loc"][0]) if error["loc"] else ""
    name = field.upper() or "a setting"
    expected = EXPECTED.get(field, "something else")
    if error["type"] == "value_error" and isinstance(error.get("ctx", {}).get("error"), BadHours):
        return f"{name}: {error['ctx']['error']}"
    if field in _HIDDEN:
        reason = error.get("ctx", {}).get("error")
        detail = f" ({reason})" if reason and str(reason) else ""
        return f"{name} must be {expected}{detail}"
    given = error.get("input")
    shown = f'got "{given}"' if isinstance(given, (str, int, float)) else ""
    limit = _LIMITS.get(error["type"])
    if limit and shown:
        shown += f", {limit.format(**error.get('ctx', {}))}"
    return f"{name} must be {expected}" + (f" ({shown})" if shown else "")


_LIMITS = {
    "greater_than_equal": "the least is {ge}",
    "less_than_equal": "the most is {le}",
}
