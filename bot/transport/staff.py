"""The operators' side in a Telegram supergroup: a topic (or a header) per ticket, messages
relayed both ways as copies, staff commands and buttons, and redelivery after an outage."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.config import Settings
from bot.console.auth import issue_login_link
from bot.conversation import Conversation, StaffEvent, StaffEventKind
from bot.dialog.buttons import Action, ButtonSigner
from bot.handoff import texts
from bot.handoff.desk import StaffMessage, Status, TicketView
from bot.i18n import Gettext, UiText
from bot.languages import DEFAULT_LANGUAGE, as_language
from bot.live import Reloaded
from bot.reports import BadPeriod, since_ago
from bot.reports.unanswered import format_top_unanswered, top_unanswered
from bot.transport.replies import send_replies

log = logging.getLogger(__name__)
STAFF_COMMANDS = ("queue", "note", "answer", "close", "unanswered", "reload", "console")
# Buttons in the staff group are signed for the group itself: any member may press them.
_CLAIM, _CLOSE = "claim", "close"
_DELETE_AT_ONCE = 100  # deleteMessages takes up to 100 ids
_DELETABLE = dt.timedelta(hours=48)  # a bot deletes nothing older


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def acknowledge(
    query: CallbackQuery, text: str | None = None, show_alert: bool = False
) -> None:
    """Answers a button press; a press answered too late (Telegram: "query is too old")
    only loses the little notice, never what the press does."""
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest as exc:
        log.info("button press acknowledged too late: %s", exc.message)


class StaffDesk:
    """Carries tickets to the staff group and operators' answers back to people."""

    def __init__(
        self,
        settings: Settings,
        conversation: Conversation,
        ui: UiText,
        signer: ButtonSigner,
    ) -> None:
        assert settings.staff_chat_id is not None
        self.chat_id: int = settings.staff_chat_id
        self._conversation = conversation
        self._desk = conversation.desk
        self._ui = ui
        self._staff: Gettext = ui.for_language(settings.staff_language)
        self._signer = signer
        self._zone = ZoneInfo(settings.timezone)
        self._reminder = dt.timedelta(minutes=settings.urgent_reminder_minutes)
        self.catch_up_seconds = settings.staff_catch_up_seconds
        self._show_identity = settings.staff_sees_identity
        self._console_address = settings.console_address()
        self._forum: bool | None = None
        # Set by long polling, the only process: an announcement it finds half done from
        # before it started was abandoned (the previous run died) and is finished at once.
        self.alone_since: dt.datetime | None = None

    def register(self, application: Application) -> None:
        staff = filters.Chat(self.chat_id)
        application.add_handler(MessageHandler(staff & filters.COMMAND, self.on_command), group=-1)
        application.add_handler(
            MessageHandler(staff & ~filters.COMMAND & filters.UpdateType.MESSAGE, self.on_reply),
            group=-1,
        )
        application.add_handler(
            CallbackQueryHandler(self.on_button, pattern=rf"^{Action.STAFF.value}:"), group=-1
        )

    # -- from people to operators -------------------------------------------------------

    async def carry(
        self, bot: Bot, event: StaffEvent, person_chat_id: int, identity: str | None = None
    ) -> bool:
        """Shows a person-side event in the staff group; False if the group was unreachable.
        `identity` (name, username) is shown only where the deployment turned that on."""
        ticket = event.ticket
        try:
            if event.kind is StaffEventKind.OPENED:
                await self._announce(bot, ticket, identity)
            elif event.kind is StaffEventKind.ESCALATED:
                await self._escalate(bot, ticket)
            elif event.kind is StaffEventKind.REOPENED:
                await self._reopen(bot, ticket, person_chat_id, event.person_message_id)
            elif event.kind is StaffEventKind.RELAY and event.person_message_id is not None:
                await self._relay_in(bot, ticket, person_chat_id, event.person_message_id)
            elif event.kind is StaffEventKind.CANCELLED:
                await self._post(bot, ticket, texts.cancelled(self._staff))
                await self._close_topic(bot, ticket)
            elif event.kind is StaffEventKind.FORGOTTEN:
                await self._erase(bot, ticket, event.staff_messages)
        except TelegramError as exc:
            log.warning(
                "staff group unreachable (%s); ticket %s waits", type(exc).__name__, ticket.id
            )
            relayed = (StaffEventKind.RELAY, StaffEventKind.REOPENED)
            if event.kind in relayed and event.person_message_id is not None:
                await asyncio.to_thread(
                    self._desk.record_relay, ticket, "in", event.person_message_id, None, _now()
                )
            return False
        return True

    async def _is_forum(self, bot: Bot) -> bool:
        if self._forum is None:
            chat = await bot.get_chat(self.chat_id)
            self._forum = bool(chat.is_forum)
        return self._forum

    async def _announce(self, bot: Bot, ticket: TicketView, identity: str | None = None) -> None:
        """Opens a topic named for the ticket (or posts in the group) with its header. Safe
        to repeat: a topic already opened for the ticket gets the header, never a twin."""
        reserved = await asyncio.to_thread(
            self._desk.reserve_announcement, ticket.id, _now(), self.alone_since
        )
        if not reserved:
            return  # announced already, or being announced by another worker
        current = await asyncio.to_thread(self._desk.get, ticket.id)
        ticket = current or ticket
        try:
            thread_id = ticket.staff_thread_id  # opened by an attempt that did not finish
            if thread_id is None and await self._is_forum(bot):
                name = texts.topic_name(ticket, self._staff)
                topic = await bot.create_forum_topic(self.chat_id, name)
                thread_id = topic.message_thread_id
                # Saved before the header is posted: a retry reuses the topic, and an
                # operator may answer at once.
                await asyncio.to_thread(self._desk.place_in_staff_chat, ticket.id, thread_id, 0)
            text = await self._header(ticket)
            if identity and self._show_identity:
                text = f"{text}\n👤 {identity}"
            header = await bot.send_message(
                self.chat_id,
                text,
                message_thread_id=thread_id,
                reply_markup=self._buttons(ticket),
            )
        except BaseException:
            await asyncio.to_thread(self._desk.release_announcement, ticket.id)
            raise
        await asyncio.to_thread(
            self._desk.place_in_staff_chat, ticket.id, thread_id, header.message_id
        )

    async def _header(self, ticket: TicketView) -> str:
        recent = await asyncio.to_thread(self._desk.recent_texts, ticket.user_id)
        guesses = await asyncio.to_thread(self._desk.recent_intents, ticket.user_id)
        return texts.header(ticket, recent, guesses, _now(), self._zone, self._staff)

    def _buttons(self, ticket: TicketView) -> InlineKeyboardMarkup:
        def data(action: str) -> str:
            return self._signer.data(self.chat_id, Action.STAFF, f"{action}.{ticket.id}")

        return InlineKeyboardMarkup([[
            InlineKeyboardButton(texts.claim_button(self._staff), callback_data=data(_CLAIM)),
            InlineKeyboardButton(texts.close_button(self._staff), callback_data=data(_CLOSE)),
        ]])  # fmt: skip

    async def _escalate(self, bot: Bot, ticket: TicketView) -> None:
        if ticket.staff_thread_id is not None:
            await bot.edit_forum_topic(
                self.chat_id, ticket.staff_thread_id, name=texts.topic_name(ticket, self._staff)
            )
        await self._post(bot, ticket, texts.now_urgent(self._staff))

    async def _reopen(
        self, bot: Bot, ticket: TicketView, person_chat_id: int, message_id: int | None
    ) -> None:
        """The person asked again past the limit of new tickets: their latest ticket's topic
        opens again, operators are told why, and what the person wrote follows."""
        current = await asyncio.to_thread(self._desk.get, ticket.id) or ticket
        if current.staff_thread_id is not None and current.staff_header_id is not None:
            try:
                await bot.reopen_forum_topic(self.chat_id, current.staff_thread_id)
            except BadRequest as exc:  # open already
                log.info("topic of ticket %s not reopened: %s", current.id, exc.message)
        await self._post(bot, current, texts.reopened(self._staff))
        if message_id is not None:
            await self._relay_in(bot, current, person_chat_id, message_id)

    async def _relay_in(
        self, bot: Bot, ticket: TicketView, person_chat_id: int, message_id: int
    ) -> None:
        current = await asyncio.to_thread(self._desk.get, ticket.id)
        if current is None or current.staff_header_id is None:
            # The header never arrived: keep the message for when the group is back.
            await asyncio.to_thread(
                self._desk.record_relay, ticket, "in", message_id, None, _now()
            )
            return
        thread, reply_to = self._place(current)
        copied = await bot.copy_message(
            self.chat_id,
            person_chat_id,
            message_id,
            message_thread_id=thread,
            reply_to_message_id=reply_to,
        )
        await asyncio.to_thread(
            self._desk.record_relay, current, "in", message_id, copied.message_id, _now()
        )

    def _place(self, ticket: TicketView) -> tuple[int | None, int | None]:
        """Where a message about this ticket goes: (topic, None), or (None, its header)."""
        if ticket.staff_thread_id is not None:
            return ticket.staff_thread_id, None
        return None, ticket.staff_header_id

    async def _post(self, bot: Bot, ticket: TicketView, text: str) -> Message | None:
        if ticket.staff_header_id is None:
            return None
        thread, reply_to = self._place(ticket)
        return await bot.send_message(
            self.chat_id, text, message_thread_id=thread, reply_to_message_id=reply_to
        )

    async def _close_topic(self, bot: Bot, ticket: TicketView) -> None:
        if ticket.staff_thread_id is not None:
            try:
                await bot.close_forum_topic(self.chat_id, ticket.staff_thread_id)
            except BadRequest as exc:  # already closed, or the topic was deleted
                log.info("topic of ticket %s not closed: %s", ticket.id, exc.message)

    async def _erase(
        self, bot: Bot, ticket: TicketView, messages: tuple[StaffMessage, ...]
    ) -> None:
        """/forget: the ticket's topic goes with everything in it; without one (or without
        the right to delete it), its header and the messages relayed either way. What
        Telegram keeps (a bot deletes nothing older than 48 h, and operators' messages only
        with the right to delete) is logged by count, never by content; a header that stays
        loses its text. Operators of an open ticket are told."""
        thread = ticket.staff_thread_id
        if thread is not None and await self._deleted(
            bot.delete_forum_topic(self.chat_id, thread), ticket, "topic"
        ):
            thread = None  # gone: a notice goes to the group itself
        else:
            await self._erase_messages(bot, ticket, messages)
            await self._close_topic(bot, ticket)
        if ticket.status is not Status.CLOSED:
            await bot.send_message(
                self.chat_id, texts.forgotten(ticket, self._staff), message_thread_id=thread
            )

    async def _erase_messages(
        self, bot: Bot, ticket: TicketView, messages: tuple[StaffMessage, ...]
    ) -> None:
        header = ticket.staff_header_id
        if header is not None and not await self._deleted(
            bot.delete_message(self.chat_id, header), ticket, "header"
        ):
            await self._deleted(
                bot.edit_message_text(texts.forgotten(ticket, self._staff), self.chat_id, header),
                ticket,
                "header text",
            )
        ids = [m.id for m in messages]
        for start in range(0, len(ids), _DELETE_AT_ONCE):
            chunk = ids[start : start + _DELETE_AT_ONCE]
            await self._deleted(bot.delete_messages(self.chat_id, chunk), ticket, "messages")
        old = sum(1 for m in messages if m.at < _now() - _DELETABLE)
        if old:  # Telegram skips them without saying so
            log.info("ticket %s: %d staff messages older than 48 h stay", ticket.id, old)

    @staticmethod
    async def _deleted(call: Awaitable[object], ticket: TicketView, what: str) -> bool:
        """Runs one deletion; a refusal is logged by its kind and never stops /forget."""
        try:
            await call
        except TelegramError as exc:
            log.warning("ticket %s: %s not deleted (%s)", ticket.id, what, type(exc).__name__)
            return False
        return True

    # -- from operators to people -------------------------------------------------------

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An operator wrote in a ticket's topic (or replied to it): copy it to the person."""
        message = update.effective_message
        operator = self._operator(message) if message else None
        if message is None or operator is None:
            return
        ticket = await self._ticket_of(message)
        if ticket is None:
            return
        try:
            copied = await context.bot.copy_message(
                ticket.user_id, self.chat_id, message.message_id
            )
        except TelegramError as exc:
            await self._undelivered(message, ticket, exc)
            return
        now = _now()
        await asyncio.to_thread(self._desk.note_operator_reply, ticket.id, *operator, now)
        await asyncio.to_thread(
            self._desk.record_relay, ticket, "out", copied.message_id, message.message_id, now
        )

    def _operator(self, message: Message) -> tuple[int, str] | None:
        """Who wrote in the staff group (id, name): a member, or the group itself when an
        administrator posts anonymously (Telegram sends that from GroupAnonymousBot with the
        group as `sender_chat`, signed with the admin's custom title if any). Other bots and
        channels are nobody: None."""
        if message.sender_chat is not None:
            if message.sender_chat.id != self.chat_id:
                return None  # a channel, or a linked channel's automatic forward
            name = message.author_signature or texts.anonymous_admin(self._staff)
            return message.sender_chat.id, name
        user = message.from_user
        if user is None or user.is_bot:
            return None
        return user.id, user.full_name

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/queue, /note, /answer INTENT_ID, /close in the staff group."""
        message = update.effective_message
        operator = self._operator(message) if message else None
        if message is None or message.text is None or operator is None:
            return
        name, _, argument = message.text[1:].partition(" ")
        name = name.split("@", 1)[0].lower()
        if name == "queue":
            tickets = await asyncio.to_thread(self._desk.queue)
            await message.reply_text(texts.queue(tickets, _now(), self._staff))
            return
        if name == "unanswered":
            await message.reply_text(await self._unanswered(argument.strip() or "7d"))
            return
        if name == "console":
            await self._console_link(context.bot, message)
            return
        if name == "reload":
            result = await asyncio.to_thread(self._conversation.content.reload)
            await message.reply_text(texts.reloaded(result, self._staff))
            return
        if name == "note" or name not in STAFF_COMMANDS:
            return  # a note stays in the group; other commands are not ours
        ticket = await self._ticket_of(message)
        if ticket is None:
            await message.reply_text(texts.no_ticket_here(self._staff))
            return
        if name == "answer":
            await self._send_answer(context.bot, message, ticket, argument.strip(), *operator)
        elif name == "close":
            await self._close(context.bot, ticket, operator[1])

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Claim and Close on a ticket header; claims are atomic in the database."""
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        if query.message.chat.id != self.chat_id:
            await acknowledge(query)
            log.warning("staff button pressed outside the staff group: ignored")
            return
        press = self._signer.verify(self.chat_id, query.data)
        action, _, number = (press.argument if press else "").partition(".")
        ticket = await asyncio.to_thread(self._desk.get, int(number)) if number.isdigit() else None
        if ticket is None:
            await acknowledge(query)
            return
        operator = query.from_user
        if action == _CLAIM:
            claim = await asyncio.to_thread(
                self._desk.claim, ticket.id, operator.id, operator.full_name, _now()
            )
            if claim.won:
                notice = texts.claimed_by(operator.full_name, self._staff)
                await acknowledge(query, notice)
                # Under the pressed header: its place may not be in the database yet.
                await context.bot.send_message(
                    self.chat_id,
                    notice,
                    message_thread_id=getattr(query.message, "message_thread_id", None),
                    reply_to_message_id=query.message.message_id,
                )
            else:
                await acknowledge(
                    query, texts.already_claimed(claim.holder, self._staff), show_alert=True
                )
        elif action == _CLOSE:
            await acknowledge(query)
            await self._close(context.bot, ticket, operator.full_name)

    async def _console_link(self, bot: Bot, message: Message) -> None:
        """A one-time sign-in link to the staff console, sent to the member in private (never
        in the group, where others would see it); an anonymous admin has no private chat."""
        user = message.from_user
        if message.sender_chat is not None or user is None or user.is_bot:
            await message.reply_text(texts.console_needs_member(self._staff))
            return
        link = await asyncio.to_thread(
            issue_login_link, self._desk.database, user.full_name, self._console_address
        )
        try:
            await bot.send_message(
                user.id,
                texts.console_link(link, self._staff),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except Forbidden:
            await message.reply_text(texts.console_start_private(self._staff))
            return
        await message.reply_text(texts.console_link_sent(self._staff))

    async def _unanswered(self, period: str) -> str:
        """The content editors' to-do list: the ten biggest groups of unanswered questions."""
        try:
            since = since_ago(period)
        except BadPeriod as exc:
            return str(exc)
        groups = await asyncio.to_thread(top_unanswered, self._desk.database, since, 10)
        return format_top_unanswered(groups, since.astimezone(self._zone))

    async def _send_answer(
        self,
        bot: Bot,
        message: Message,
        ticket: TicketView,
        intent: str,
        operator_id: int,
        operator_name: str,
    ) -> None:
        lang = as_language(ticket.language) or DEFAULT_LANGUAGE
        text = self._conversation.engine.answer_text(intent, lang)
        if text is None:
            await message.reply_text(texts.unknown_intent(intent, self._staff))
            return
        try:
            sent = await bot.send_message(ticket.user_id, text)
        except TelegramError as exc:
            await self._undelivered(message, ticket, exc)
            return
        now = _now()
        await asyncio.to_thread(
            self._desk.note_operator_reply, ticket.id, operator_id, operator_name, now
        )
        await asyncio.to_thread(self._desk.record_relay, ticket, "out", sent.message_id, None, now)
        await message.reply_text(texts.sent_answer(intent, ticket.language, text, self._staff))

    async def _close(self, bot: Bot, ticket: TicketView, operator_name: str) -> None:
        closed = await asyncio.to_thread(self._desk.close, ticket.id, _now())
        if closed is None:
            return  # someone closed it a moment ago
        lang = as_language(closed.language) or DEFAULT_LANGUAGE
        replies = self._conversation.engine.closing_replies(closed.user_id, lang, closed.id)
        try:
            await send_replies(bot, closed.user_id, replies)
        except TelegramError as exc:
            if isinstance(exc, Forbidden):
                await asyncio.to_thread(self._conversation.mark_unreachable, closed.user_id)
            await self._post(bot, closed, texts.not_delivered(self._why(exc), self._staff))
        await self._post(bot, closed, texts.closed_by(operator_name, self._staff))
        await self._close_topic(bot, closed)

    async def _ticket_of(self, message: Message) -> TicketView | None:
        thread = message.message_thread_id if message.is_topic_message else None
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        return await asyncio.to_thread(self._desk.by_staff_message, thread, reply_to)

    async def _undelivered(self, message: Message, ticket: TicketView, exc: TelegramError) -> None:
        """Tells the operator why a message did not reach the person (once per message:
        a blocked person is marked unreachable, never retried)."""
        if isinstance(exc, Forbidden):
            await asyncio.to_thread(self._conversation.mark_unreachable, ticket.user_id)
        await message.reply_text(texts.not_delivered(self._why(exc), self._staff))

    def _why(self, exc: TelegramError) -> str:
        if isinstance(exc, Forbidden):
            return texts.blocked(self._staff)
        return exc.message

    # -- membership and redelivery ------------------------------------------------------

    async def report_reload(self, bot: Bot, result: Reloaded) -> None:
        """Tells staff that content changed on disk, and whether it is now served."""
        try:
            await bot.send_message(self.chat_id, texts.reloaded(result, self._staff))
        except TelegramError as exc:
            log.warning("could not tell staff about a reload: %s", type(exc).__name__)

    async def catch_up(self, bot: Bot) -> None:
        """Delivers what waited while the group was unreachable and announces urgent tickets
        nobody claimed; safe to run on several workers (the database decides)."""
        try:
            for ticket in await asyncio.to_thread(self._desk.unannounced):
                await self._announce(bot, ticket)
            for pending in await asyncio.to_thread(self._desk.pending_relays):
                current = await asyncio.to_thread(self._desk.get, pending.ticket.id)
                if current is None or current.staff_header_id is None:
                    continue
                thread, reply_to = self._place(current)
                copied = await bot.copy_message(
                    self.chat_id,
                    current.user_id,
                    pending.person_message_id,
                    message_thread_id=thread,
                    reply_to_message_id=reply_to,
                )
                await asyncio.to_thread(self._desk.mark_delivered, pending.id, copied.message_id)
            due = await asyncio.to_thread(self._desk.due_reminders, _now(), self._reminder)
            for ticket in due:
                await self._post(bot, ticket, texts.still_waiting(ticket, _now(), self._staff))
        except TelegramError as exc:
            log.warning("staff group still unreachable: %s", type(exc).__name__)
