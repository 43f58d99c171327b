"""`migrant-bot run`: starts the bot on Telegram."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.app import build_conversation, build_engine
from bot.cli import chat
from bot.config import Settings
from bot.content.loader import ContentError
from bot.conversation import Conversation
from bot.i18n import UiText
from bot.storage.database import make_engine, upgrade
from bot.transport.metrics import MULTIPROC_VARIABLE

log = logging.getLogger(__name__)

NO_TOKEN = """\
No Telegram token: set TELEGRAM_BOT_TOKEN (in the environment or in .env).
To get one: open Telegram, talk to @BotFather, send /newbot, choose a name, and copy the
token it gives you. Then: TELEGRAM_BOT_TOKEN=123456:ABC... make run
"""


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="serve Telegram's webhook (WEBHOOK_URL, WEBHOOK_SECRET) instead of long polling",
    )
    parser.add_argument("--workers", type=int, default=1, help="webhook worker processes")
    parser.add_argument(
        "--chat-without-token",
        action="store_true",
        help="without a token, explain how to get one and open the terminal chat",
    )
    # The token's shape is checked with the other settings, before anything loads.
    parser.set_defaults(handler=handle, needs_token=True)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        if args.chat_without_token:
            print("Meanwhile, here is the same bot in this terminal.\n", file=sys.stderr)
            return chat.handle(
                argparse.Namespace(user=chat.TERMINAL_USER, lang=None, staff=True), settings
            )
        return 2
    from bot.transport.app import BadToken, build_application, run_polling
    from bot.transport.metrics import Metrics

    if args.webhook:
        return _serve_webhook(settings, args.workers)

    try:
        parts = build_engine(settings)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    database = make_engine(settings.database_url)
    conversation = build_conversation(settings, parts, database)
    parts.engine.reader.detector.warm_up()
    if "console_port" in settings.model_fields_set:
        _console_beside(settings, conversation)
    try:
        metrics = Metrics()
        ui = UiText(settings.locales_dir)
        application = build_application(settings, conversation, ui, metrics, updater=False)
        log.info("starting long polling on %s", settings.telegram_api_base_url)
        health = None
        if settings.metrics_port is not None:
            health = (settings.metrics_host, settings.metrics_port)
        run_polling(application, conversation, metrics, health)
    except BadToken as exc:
        print(f"migrant-bot: {exc}", file=sys.stderr)
        return 2
    return 0


def _console_beside(settings: Settings, conversation: Conversation) -> None:
    """With CONSOLE_PORT set, the staff console in a thread of this process, on the bot's own
    live content: a save is answered at once (docs/CONSOLE.md)."""
    import threading

    import uvicorn

    from bot.console.app import create_app

    app = create_app(settings, conversation.desk.database, conversation.content)
    config = uvicorn.Config(
        app, host=settings.console_host, port=settings.console_port, proxy_headers=True,
        access_log=False, log_level="warning",
    )  # fmt: skip
    threading.Thread(target=uvicorn.Server(config).run, name="console", daemon=True).start()
    log.info("staff console on %s", settings.console_address())


def _serve_webhook(settings: Settings, workers: int) -> int:
    """Runs the ASGI app under uvicorn; each worker builds its own bot from the settings."""
    if settings.webhook_secret_value() is None:
        print("migrant-bot: set WEBHOOK_SECRET (letters, digits, _ and -) for webhook mode",
              file=sys.stderr)  # fmt: skip
        return 2
    database = make_engine(settings.database_url)
    try:
        upgrade(database)  # once, before the workers start (each has its own engine)
    finally:
        database.dispose()
    with _shared_metrics(workers):
        _uvicorn(settings, workers)
    return 0


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """Several workers write their metrics to one folder (prometheus_client's multiprocess
    mode), emptied first: PROMETHEUS_MULTIPROC_DIR if set, else a temporary one."""
    folder = os.environ.get(MULTIPROC_VARIABLE)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
        yield
    elif workers > 1:  # one worker runs in this process: its own registry is the whole
        with tempfile.TemporaryDirectory(prefix="migrant-bot-metrics-") as temporary:
            os.environ[MULTIPROC_VARIABLE] = temporary
            try:
                yield
            finally:
                del os.environ[MULTIPROC_VARIABLE]
    else:
        yield


def _uvicorn(settings: Settings, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "bot.transport.webhook:app_from_environment",
        factory=True,
        host=settings.webhook_host,
        port=settings.webhook_port,
        workers=workers,
        log_level="warning",
        # SIGTERM: updates being handled get this long to finish; any still running then is
        # cancelled, its claim released, and Telegram's retry handles it again.
        timeout_graceful_shutdown=10,
    )
