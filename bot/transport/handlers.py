"""python-telegram-bot handlers: private chats go through the core, groups get one notice."""

from __future__ import annotations

import asyncio
import json
import logging
from contextvars import ContextVar

from sqlalchemy.exc import DBAPIError
from telegram import Bot, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.conversation import PENDING_CLAIM, Conversation, StaffEventKind
from bot.dialog import notices
from bot.dialog.events import CommandEvent, Incoming
from bot.i18n import UiText
from bot.languages import DEFAULT_LANGUAGE, as_language
from bot.storage.errors import is_permanent
from bot.storage.store import UpdateClaim
from bot.transport import replies
from bot.transport.background import describe
from bot.transport.core_thread import in_core
from bot.transport.metrics import Metrics
from bot.transport.replies import Call, calls_for, make, send_replies
from bot.transport.staff import STAFF_COMMANDS, StaffDesk, acknowledge
from bot.transport.updates import to_incoming

log = logging.getLogger(__name__)
# Set by the error handler when the database or the network failed while handling the current
# update: the update is handled again later (see delivery.py).
HANDLING_FAILED: ContextVar[bool] = ContextVar("handling_failed", default=False)
RETRY_LATER: ContextVar[bool] = ContextVar("retry_later", default=False)
# Set when the database refused something of the update for good: it is not retried.
UNSTORABLE: ContextVar[bool] = ContextVar("unstorable", default=False)
# Set by delivery.py when an earlier attempt at this update failed or died: it may have left
# replies unsent, which are then all that is sent (the turn itself was handled already).
RETAKEN: ContextVar[bool] = ContextVar("retaken", default=False)


class Handlers:
    """Turns updates into core events and sends what the core answers."""

    def __init__(
        self,
        conversation: Conversation,
        ui: UiText,
        staff: StaffDesk | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._conversation = conversation
        self._ui = ui
        self._staff = staff
        self._metrics = metrics

    def register(self, application: Application) -> None:
        private = filters.ChatType.PRIVATE
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(
            MessageHandler(private & (filters.UpdateType.MESSAGES), self.on_message)
        )
        application.add_handler(
            ChatMemberHandler(self.on_added_to_group, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_handler(TypeHandler(Update, self.on_anything_else), group=1)
        application.add_error_handler(self.on_error)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers a private message (new or edited) through the core."""
        await self._answer(update, context)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Acknowledges the press at once, then answers it through the core (also when the
        press is answered too late for Telegram: the person still gets the answer)."""
        query = update.callback_query
        if query is None or query.message is None:
            return
        if query.message.chat.type != ChatType.PRIVATE:
            return  # staff buttons have their own handler
        await acknowledge(query)
        await self._answer(update, context)

    async def on_added_to_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Says once, in a group it was added to, that it only answers in private."""
        change = update.my_chat_member
        if change is None or change.chat.type == ChatType.PRIVATE:
            return
        if self._staff is not None and change.chat.id == self._staff.chat_id:
            return  # the operators' own group
        joined = change.new_chat_member.status in (
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.ADMINISTRATOR,
        ) and change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
        if joined:
            lang = as_language(change.from_user.language_code) or DEFAULT_LANGUAGE
            text = notices.private_only(self._ui.for_language(lang))
            await context.bot.send_message(change.chat.id, text)

    async def on_anything_else(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Ignores by design what is not a private message, a button or a group join
        (group chatter, channel posts, polls): nobody's question must leak into a group."""

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Logs the failure without the message text and tells the person what to do. A
        passing failure (the database or the network down, Telegram still asking to slow
        down after the rate limiter's retries) is retried instead: the update comes again,
        by Telegram's webhook retry or by polling from the same offset. What the database
        refuses for good is not retried (it would stall everyone behind it)."""
        error = context.error
        if error is not None and is_permanent(error):
            UNSTORABLE.set(True)
            # The error's own message quotes the statement's parameters: a person's words.
            log.error("update could not be stored, not retried: %s", describe(error))
        elif isinstance(error, DBAPIError) or _passes(error):
            HANDLING_FAILED.set(True)
            cause = error.orig if isinstance(error, DBAPIError) else error
            log.error("update to retry, %s: %s", type(error).__name__, type(cause).__name__)
            if RETRY_LATER.get():
                return
        else:
            log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if update.effective_chat.type != ChatType.PRIVATE:
            return
        user = update.effective_user
        lang = as_language(user.language_code if user else None) or DEFAULT_LANGUAGE
        try:
            state = await in_core(self._conversation.state_of, user.id) if user else None
            lang = state.language if state and state.language else lang
        except Exception:  # the database may be what failed
            log.warning("could not read the person's language for the error notice")
        text = notices.something_went_wrong(self._ui.for_language(lang))
        await context.bot.send_message(update.effective_chat.id, text)

    async def _answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = to_incoming(update)
        chat = update.effective_chat
        if incoming is None or chat is None:
            return
        if _is_staff_command(incoming):
            log.warning(
                "staff command outside the staff group ignored (user %s)", incoming.user_id
            )
            return
        if RETAKEN.get() and await self._send_unsent(context.bot, update.update_id, incoming):
            return
        turn = await in_core(self._conversation.handle, incoming)
        pending = PENDING_CLAIM.get()
        if pending is not None and pending.found is not UpdateClaim.CLAIMED:
            # Not this worker's to answer (done, or being answered), or an earlier attempt
            # failed or died: it may have left replies unsent, which are all that is left.
            if pending.found is not UpdateClaim.RETAKEN:
                return
            if await self._send_unsent(context.bot, update.update_id, incoming):
                return
            turn = await in_core(self._conversation.handle, incoming)
        calls = calls_for(chat.id, turn.replies)
        await self._send(context.bot, update.update_id, incoming.user_id, calls)
        understood = turn.outcome.understanding
        if self._metrics is not None and understood is not None:
            intent = understood.intent or "none"
            self._metrics.replies.labels(understood.language, intent).inc()
            if turn.outcome.unanswered:
                self._metrics.unmatched.labels(understood.language).inc()
        if self._staff is None:
            return
        user = update.effective_user
        identity = (
            " ".join(
                filter(None, [user.full_name, f"@{user.username}" if user.username else None])
            )
            if user
            else None
        )
        for event in turn.staff:
            delivered = await self._staff.carry(context.bot, event, chat.id, identity)
            if not delivered and event.kind is StaffEventKind.OPENED:
                lang = as_language(event.ticket.language) or DEFAULT_LANGUAGE
                notice = self._conversation.engine.handoff_notice(
                    event.ticket.user_id, lang, event.ticket.urgent,
                    on_duty=False, opening=None, reachable=False,
                )  # fmt: skip
                await send_replies(context.bot, chat.id, (notice,))

    async def _send_unsent(self, bot: Bot, update_id: int, incoming: Incoming) -> bool:
        """Sends what an earlier attempt at the update left unsent; False if it left nothing
        (the turn itself was not handled then)."""
        unsent = await in_core(self._conversation.unsent, update_id)
        if unsent is None:
            return False
        calls = [Call.from_json(c) for c in json.loads(unsent)]
        await self._send(bot, update_id, incoming.user_id, calls)
        await in_core(self._conversation.drop_unsent, update_id)
        return True

    async def _send(self, bot: Bot, update_id: int, user_id: int, calls: list[Call]) -> None:
        """Sends the calls in order. When Telegram fails on one (down, or flood control past
        its deadline), it and those after it are kept for the update's retry, which sends
        only them: a reply Telegram confirmed is never sent twice, one it did not confirm
        is sent again (it may arrive twice, never not at all)."""
        give_up_at = asyncio.get_running_loop().time() + replies.PATIENCE_SECONDS
        for number, call in enumerate(calls):
            try:
                await make(bot, call, give_up_at)
            except Forbidden:
                log.info("person %s blocked the bot: marked unreachable", user_id)
                await in_core(self._conversation.mark_unreachable, user_id)
                return
            except TelegramError as exc:
                if _passes(exc):
                    unsent = json.dumps([c.to_json() for c in calls[number:]])
                    try:
                        await in_core(self._conversation.keep_unsent, update_id, user_id, unsent)
                    except DBAPIError as db_error:  # the retry will answer afresh
                        log.error("unsent replies not kept: %s", describe(db_error))
                raise


def _passes(error: BaseException | None) -> bool:
    """A Telegram failure that passes: it is down or slow (a 5xx, a timeout) or its flood
    control still holds. A refusal (400, 403) would come back on every retry."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


def _is_staff_command(incoming: Incoming) -> bool:
    event = incoming.event
    return (
        isinstance(event, CommandEvent)
        and event.command is None
        and (event.name in STAFF_COMMANDS)
    )
