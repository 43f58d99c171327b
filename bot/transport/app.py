"""Builds the python-telegram-bot Application around the core and runs long polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal

from pydantic import SecretStr
from telegram import BotCommand
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder

from bot.config import TOKEN_SHAPE, Settings, token_problem
from bot.conversation import Conversation
from bot.dialog import notices
from bot.dialog.buttons import ButtonSigner
from bot.i18n import UiText
from bot.languages import DEFAULT_LANGUAGE, LANGUAGES
from bot.transport.background import Supervisor
from bot.transport.handlers import Handlers
from bot.transport.metrics import Metrics
from bot.transport.polling import Poller
from bot.transport.ratelimit import rate_limiter_for
from bot.transport.staff import StaffDesk

log = logging.getLogger(__name__)
# Connections to the Bot API: twice the updates handled at once (delivery.py), since the
# staff group's side and the background jobs send too. Not PTB's default of 256: httpcore
# checks every pooled connection (a system call each) on every request.
HTTP_CONNECTIONS = 8


class BadToken(Exception):
    """The token is missing, malformed or refused by Telegram."""


def build_application(
    settings: Settings,
    conversation: Conversation,
    ui: UiText,
    metrics: Metrics | None = None,
    updater: bool = True,
) -> Application:
    """The Application, talking to `TELEGRAM_API_BASE_URL` through the deployment's rate
    limiter (ratelimit.py), with the staff group's side when `STAFF_CHAT_ID` is set."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not TOKEN_SHAPE.match(token):  # `migrant-bot run` checked it already, at start-up
        raise BadToken(token_problem(SecretStr(token)) or "TELEGRAM_BOT_TOKEN is not set")
    base = settings.telegram_api_base_url.rstrip("/")
    builder = ApplicationBuilder() if updater else ApplicationBuilder().updater(None)
    application = (
        builder.token(token)
        .base_url(base)
        .base_file_url(file_url(base))
        .connection_pool_size(HTTP_CONNECTIONS)
        .pool_timeout(5.0)
        .rate_limiter(rate_limiter_for(settings))
        .post_init(_on_start(ui, conversation, settings))
        .post_shutdown(_on_stop)
        .build()
    )
    staff = None
    if settings.staff_chat_id is not None:
        staff = StaffDesk(settings, conversation, ui, ButtonSigner(settings.button_key()))
        staff.register(application)
        application.bot_data["staff"] = staff
    Handlers(conversation, ui, staff, metrics).register(application)
    return application


def file_url(base: str) -> str:
    """The file address beside a Bot API address: `https://host/bot` gives
    `https://host/file/bot` (only the last `/bot` is touched, never the host name)."""
    head, bot, tail = base.rpartition("/bot")
    return f"{head}/file/bot{tail}" if bot else f"{base}/file/bot"


PURGE_RETRY_SECONDS = 300.0  # a failed daily purge is tried again after five minutes


def _on_start(ui: UiText, conversation: Conversation, settings: Settings):  # type: ignore[no-untyped-def]
    async def post_init(application: Application) -> None:
        """Sets the /command menu in each language (Spanish for everyone else) and starts
        the background jobs, supervised (see background.py): the staff group's catch-up
        (redelivery and urgent reminders), the content follow-up and the daily purge."""
        for lang in (*LANGUAGES, None):
            _ = ui.for_language(lang or DEFAULT_LANGUAGE)
            commands = [
                BotCommand(name, text) for name, text in notices.command_descriptions(_).items()
            ]
            await application.bot.set_my_commands(commands, language_code=lang)
        jobs = application.bot_data["background"] = Supervisor()
        staff: StaffDesk | None = application.bot_data.get("staff")
        if staff is not None:
            jobs.every(
                "staff catch-up", lambda: staff.catch_up(application.bot), staff.catch_up_seconds
            )
        jobs.every(
            "content follow-up",
            lambda: _follow_content(conversation, application),
            settings.content_check_seconds,
            first_after=settings.content_check_seconds,
        )
        jobs.every(
            "daily purge of old message text",
            lambda: asyncio.to_thread(conversation.purge_old_text, dt.datetime.now(dt.UTC)),
            24 * 3600,
            retry_seconds=PURGE_RETRY_SECONDS,
        )

    return post_init


async def _follow_content(conversation: Conversation, application: Application) -> None:
    """Picks up content edits by itself (every worker does, so all serve the same version
    within seconds); broken content is reported to staff and not served (a failure keeps
    the previous content)."""
    result = await asyncio.to_thread(conversation.content.reload_if_changed)
    staff: StaffDesk | None = application.bot_data.get("staff")
    if result is not None and (result.changed or result.problems) and staff is not None:
        await staff.report_reload(application.bot, result)


async def _on_stop(application: Application) -> None:
    jobs: Supervisor | None = application.bot_data.pop("background", None)
    if jobs is not None:
        await jobs.stop()


def run_polling(
    application: Application,
    conversation: Conversation,
    metrics: Metrics,
    health: tuple[str, int] | None = None,
) -> None:
    """Long polling until SIGTERM or Ctrl-C; pending updates are never dropped, and the offset
    only moves past handled updates (see polling.py). With `health` (host, port), /healthz
    and /metrics are served there meanwhile."""
    try:
        asyncio.run(_poll(application, conversation, metrics, health))
    except InvalidToken as exc:
        raise BadToken(
            "Telegram refused TELEGRAM_BOT_TOKEN; get a new one from @BotFather."
        ) from exc
    except NetworkError as exc:
        raise BadToken(f"cannot reach the Bot API at the configured address: {exc}") from exc


async def _poll(
    application: Application,
    conversation: Conversation,
    metrics: Metrics,
    health: tuple[str, int] | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    async with application:
        await application.bot.delete_webhook(drop_pending_updates=False)
        staff: StaffDesk | None = application.bot_data.get("staff")
        if staff is not None:
            staff.alone_since = dt.datetime.now(dt.UTC)  # the only process (see StaffDesk)
        if application.post_init:
            await application.post_init(application)
        await application.start()
        log.info("Application started")
        # On SIGTERM the poller stops fetching and lets what is being handled finish.
        polling = asyncio.create_task(Poller(application, conversation, metrics).run(stop))
        serving = None
        if health is not None:
            # Here, not at the top: uvicorn and Starlette (~3 MB) only when METRICS_PORT is set.
            from bot.transport.health import serve_health

            serving = asyncio.create_task(serve_health(conversation, metrics, *health, stop))
        try:
            await polling  # a refused token ends the bot with its own message
        finally:
            stop.set()
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            if serving is not None:
                await asyncio.gather(serving, return_exceptions=True)
            await application.stop()
            if application.post_shutdown:
                await application.post_shutdown(application)
