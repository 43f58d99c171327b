"""Settings from environment variables and an optional `.env` (see .env.example)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.languages import Lang

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a deployment can change; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'migrant-bot.sqlite3'}"
    content_dir: Path = PROJECT_ROOT / "content"
    locales_dir: Path = PROJECT_ROOT / "locales"
    button_secret: SecretStr | None = None
    log_level: str = "INFO"
    retention_days: int = 30  # message text older than this is deleted (daily and on `purge`)
    # Human handoff (docs/OPERATORS.md): the operators' Telegram supergroup, their language,
    # when someone is on duty and in which time zone, and when an unclaimed urgent ticket
    # is announced again.
    staff_chat_id: int | None = None
    staff_language: Lang = "es"
    handoff_hours: str = "mon-fri 09:00-18:00"
    timezone: str = "America/Mexico_City"
    urgent_reminder_minutes: int = 10
    staff_catch_up_seconds: float = 15.0  # how often waiting deliveries are retried
    staff_sees_identity: bool = False  # show operators the person's name and username
    content_check_seconds: float = 5.0  # how often the running bot looks for content edits
    # Webhook mode (`migrant-bot run --webhook`, docs/DEPLOYMENT.md): the public HTTPS URL
    # Telegram posts to, the secret it sends back, and where this process listens.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram"
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080

    def webhook_secret_value(self) -> str | None:
        """The webhook secret, if it is one Telegram accepts (1-256 of A-Z a-z 0-9 _ -)."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        return secret if re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret) else None

    def button_key(self) -> bytes:
        """The key that signs buttons: set, else derived from the token, so every worker
        of one bot agrees without extra configuration."""
        if self.button_secret:
            return self.button_secret.get_secret_value().encode()
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        return hashlib.sha256(f"migrant-bot buttons|{token}".encode()).digest()
