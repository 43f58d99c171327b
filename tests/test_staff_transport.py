"""The staff side at the transport layer: the exact Bot API calls for a ticket's topic, with a
recording request object instead of a network."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

from bot.config import Settings
from bot.conversation import Conversation, StaffEvent, StaffEventKind
from bot.dialog.buttons import ButtonSigner
from bot.dialog.events import Command, CommandEvent, Incoming
from bot.handoff.desk import StaffMessage
from bot.i18n import UiText
from bot.transport.staff import StaffDesk

STAFF = -1001234567890
TOPIC = 77
NOW = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)


class RecordingRequest(BaseRequest):
    """Answers every Bot API call like Telegram would, and records (method, parameters)."""

    def __init__(self, forum: bool = True, refused: frozenset[str] = frozenset()) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._message_id = 1000
        self._forum = forum
        self._refused = refused  # methods Telegram answers with a Bad Request

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kw: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((name, params))
        if name in self._refused:
            refusal = {"ok": False, "error_code": 400, "description": "Bad Request: refused"}
            return 400, json.dumps(refusal).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        bot = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "bot"}
        if name == "getMe":
            return bot
        if name == "getChat":
            return {"id": STAFF, "type": "supergroup", "title": "Ops", "is_forum": self._forum,
                    "accent_color_id": 0, "max_reaction_count": 11,
                    "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                            "unique_gifts": False, "premium_subscription": False,
                                            "gifts_from_channels": False}}  # fmt: skip
        if name == "createForumTopic":
            return {"message_thread_id": TOPIC, "name": params["name"], "icon_color": 7322096}
        if name in ("sendMessage", "copyMessage"):
            self._message_id += 1
            if name == "copyMessage":
                return {"message_id": self._message_id}
            return {
                "message_id": self._message_id, "date": 0, "from": bot, "text": params["text"],
                "chat": {"id": params["chat_id"], "type": "supergroup", "title": "Ops"},
            }  # fmt: skip
        return True


def _open(conversation: Conversation, user: int, lang: str, reason: str, urgent: bool):  # type: ignore[no-untyped-def]
    conversation.handle(Incoming(user, CommandEvent(Command.START), lang))  # the person exists
    return conversation.desk.open(user, lang, reason, urgent, NOW)


def _run(
    conversation: Conversation,
    settings: Settings,
    steps: Callable[[StaffDesk, Bot], Awaitable[None]],
    forum: bool = True,
    refused: frozenset[str] = frozenset(),
) -> list[tuple[str, dict[str, Any]]]:
    request = RecordingRequest(forum, refused)

    async def main() -> None:
        bot = Bot("123:" + "a" * 35, request=request, get_updates_request=RecordingRequest())
        await bot.initialize()
        staff = StaffDesk(settings, conversation, UiText(settings.locales_dir), ButtonSigner(b"k"))
        await steps(staff, bot)
        await bot.shutdown()

    asyncio.run(main())
    return [(name, params) for name, params in request.calls if name != "getMe"]


def test_a_new_ticket_gets_its_topic_then_its_header_with_claim_and_close(
    conversation: Conversation, settings: Settings
) -> None:
    opened = _open(conversation, 42, "ht", "emergency", True)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, StaffEvent(StaffEventKind.OPENED, opened.ticket), 42)

    calls = _run(conversation, settings, steps)
    pseudonym = conversation.desk.pseudonym(42)
    assert [name for name, _ in calls] == ["getChat", "createForumTopic", "sendMessage"]
    assert calls[1][1] == {
        "chat_id": STAFF,
        "name": f"🔴 #{opened.ticket.id} · HT · Persona {pseudonym}",
    }
    header = calls[2][1]
    assert header["chat_id"] == STAFF and header["message_thread_id"] == TOPIC
    assert header["text"].startswith(f"🔴 #{opened.ticket.id} · HT · Persona {pseudonym}")
    buttons = [b["text"] for row in header["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["✋ Tomar", "✅ Cerrar"]
    ticket = conversation.desk.get(opened.ticket.id)
    assert ticket is not None and ticket.staff_thread_id == TOPIC


def test_a_person_who_cancels_closes_the_topic_with_a_notice(
    conversation: Conversation, settings: Settings
) -> None:
    opened = _open(conversation, 43, "es", "asked", False)
    conversation.desk.place_in_staff_chat(opened.ticket.id, TOPIC, 500)
    ticket = conversation.desk.get(opened.ticket.id)
    assert ticket is not None

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, StaffEvent(StaffEventKind.CANCELLED, ticket), 43)

    calls = _run(conversation, settings, steps)
    assert [name for name, _ in calls] == ["sendMessage", "closeForumTopic"]
    assert calls[0][1]["message_thread_id"] == TOPIC
    assert calls[1][1] == {"chat_id": STAFF, "message_thread_id": TOPIC}


def test_a_persons_message_is_copied_into_the_topic_not_forwarded(
    conversation: Conversation, settings: Settings
) -> None:
    opened = _open(conversation, 44, "fr", "asked", False)
    conversation.desk.place_in_staff_chat(opened.ticket.id, TOPIC, 500)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        event = StaffEvent(StaffEventKind.RELAY, opened.ticket, person_message_id=9)
        assert await staff.carry(bot, event, 44)

    calls = _run(conversation, settings, steps)
    assert calls == [
        ("copyMessage", {"chat_id": STAFF, "from_chat_id": 44, "message_id": 9,
                         "message_thread_id": TOPIC}),
    ]  # fmt: skip


def test_without_topics_the_header_is_posted_in_the_group_and_replies_find_the_ticket(
    conversation: Conversation, settings: Settings
) -> None:
    opened = _open(conversation, 45, "es", "asked", False)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, StaffEvent(StaffEventKind.OPENED, opened.ticket), 45)

    calls = _run(conversation, settings, steps, forum=False)
    assert [name for name, _ in calls] == ["getChat", "sendMessage"]
    assert "message_thread_id" not in calls[1][1]
    ticket = conversation.desk.get(opened.ticket.id)
    assert ticket is not None and ticket.staff_thread_id is None
    assert conversation.desk.by_staff_message(None, ticket.staff_header_id) == ticket


def test_names_reach_operators_only_when_the_deployment_allows_it(
    conversation: Conversation, settings: Settings
) -> None:
    hidden = _open(conversation, 46, "es", "asked", False)
    shown = _open(conversation, 47, "es", "asked", False)

    async def announce(staff: StaffDesk, bot: Bot, ticket) -> None:  # type: ignore[no-untyped-def]
        await staff.carry(bot, StaffEvent(StaffEventKind.OPENED, ticket), 0, "Rose @rose")

    calls = _run(conversation, settings, lambda s, b: announce(s, b, hidden.ticket))
    assert "Rose" not in calls[-1][1]["text"]
    revealing = settings.model_copy(update={"staff_sees_identity": True})
    calls = _run(conversation, revealing, lambda s, b: announce(s, b, shown.ticket))
    assert "Rose @rose" in calls[-1][1]["text"]


@pytest.mark.parametrize("left", ["reserved", "released"])
def test_a_topic_opened_by_an_announcement_that_did_not_finish_gets_its_header_not_a_twin(
    conversation: Conversation, settings: Settings, left: str
) -> None:
    """The previous run opened the ticket's topic, then died before the header (its
    reservation is still there) or gave the reservation back (a cancelled announcement)."""
    opened = _open(conversation, 48, "es", "asked", False)
    desk = conversation.desk
    assert desk.reserve_announcement(opened.ticket.id, dt.datetime.now(dt.UTC))
    desk.place_in_staff_chat(opened.ticket.id, TOPIC, 0)  # the topic is known, no header
    if left == "released":
        desk.release_announcement(opened.ticket.id)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        staff.alone_since = dt.datetime.now(dt.UTC)  # this run started after that one
        await staff.catch_up(bot)
        await staff.catch_up(bot)  # and again: announced once

    calls = _run(conversation, settings, steps)
    assert [name for name, _ in calls] == ["sendMessage"]
    assert calls[0][1]["message_thread_id"] == TOPIC
    ticket = desk.get(opened.ticket.id)
    assert ticket is not None and ticket.staff_thread_id == TOPIC
    assert ticket.staff_header_id is not None


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}  # fmt: skip
OTHER_BOT = {"id": 99, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}
CHANNEL = {"id": -1009999999999, "type": "channel", "title": "News"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel",
               "username": "Channel_Bot"}  # fmt: skip


def _in_topic(sender: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A message in the ticket's topic of the staff group, as Telegram sends it."""
    chat = {"id": STAFF, "type": "supergroup", "title": "Ops", "is_forum": True}
    return {"message_id": 600, "date": 0, "chat": chat, "from": sender, "text": "Hola",
            "message_thread_id": TOPIC, "is_topic_message": True, **extra}  # fmt: skip


def _staff_writes(
    conversation: Conversation, settings: Settings, message: dict[str, Any]
) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    async def steps(staff: StaffDesk, bot: Bot) -> None:
        update = Update.de_json({"update_id": 1, "message": message}, bot)
        await staff.on_reply(update, SimpleNamespace(bot=bot))  # type: ignore[arg-type]

    return _run(conversation, settings, steps)


@pytest.mark.parametrize(
    ("signature", "name"), [(None, "Administrador anónimo"), ("Coordinación", "Coordinación")]
)
def test_an_administrator_posting_as_the_group_reaches_the_person(
    conversation: Conversation, settings: Settings, signature: str | None, name: str
) -> None:
    opened = _open(conversation, 49, "es", "asked", False)
    conversation.desk.place_in_staff_chat(opened.ticket.id, TOPIC, 500)
    group = {"id": STAFF, "type": "supergroup", "title": "Ops", "is_forum": True}
    signed = {"author_signature": signature} if signature else {}
    message = _in_topic(ANONYMOUS_ADMIN, sender_chat=group, **signed)
    calls = _staff_writes(conversation, settings, message)
    assert calls == [("copyMessage", {"chat_id": 49, "from_chat_id": STAFF, "message_id": 600})]
    [ticket] = conversation.desk.queue()
    assert ticket.status.value == "claimed" and ticket.operator_name == name


@pytest.mark.parametrize(
    "message",
    [_in_topic(OTHER_BOT), _in_topic(CHANNEL_BOT, sender_chat=CHANNEL)],
    ids=["another bot", "someone posting as a channel"],
)
def test_other_bots_and_channels_in_the_staff_group_reach_nobody(
    conversation: Conversation, settings: Settings, message: dict[str, Any]
) -> None:
    opened = _open(conversation, 50, "es", "asked", False)
    conversation.desk.place_in_staff_chat(opened.ticket.id, TOPIC, 500)
    assert _staff_writes(conversation, settings, message) == []
    [ticket] = conversation.desk.queue()
    assert ticket.status.value == "waiting"


def test_a_reopened_ticket_reopens_its_topic_says_why_and_brings_the_message(
    conversation: Conversation, settings: Settings
) -> None:
    opened = _open(conversation, 51, "es", "asked", False)
    conversation.desk.place_in_staff_chat(opened.ticket.id, TOPIC, 500)
    ticket = conversation.desk.get(opened.ticket.id)
    assert ticket is not None

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        event = StaffEvent(StaffEventKind.REOPENED, ticket, person_message_id=12)
        assert await staff.carry(bot, event, 51)

    calls = _run(conversation, settings, steps)
    assert [name for name, _ in calls] == ["reopenForumTopic", "sendMessage", "copyMessage"]
    assert calls[0][1] == {"chat_id": STAFF, "message_thread_id": TOPIC}
    assert calls[1][1]["message_thread_id"] == TOPIC and calls[1][1]["text"].startswith("↩️")
    assert calls[2][1] == {"chat_id": STAFF, "from_chat_id": 51, "message_id": 12,
                           "message_thread_id": TOPIC}  # fmt: skip


def _forgotten(
    conversation: Conversation, user: int, thread: int | None, closed: bool = False
) -> StaffEvent:
    """The FORGOTTEN event of a ticket with a header (500) and two relayed messages, one
    posted three days ago."""
    opened = _open(conversation, user, "es", "asked", False)
    conversation.desk.place_in_staff_chat(opened.ticket.id, thread, 500)
    if closed:
        conversation.desk.close(opened.ticket.id, NOW)
    ticket = conversation.desk.get(opened.ticket.id)
    assert ticket is not None
    now = dt.datetime.now(dt.UTC)
    messages = (StaffMessage(501, now - dt.timedelta(days=3)), StaffMessage(502, now))
    return StaffEvent(StaffEventKind.FORGOTTEN, ticket, staff_messages=messages)


def test_forget_deletes_the_ticket_topic_and_tells_operators_in_the_group(
    conversation: Conversation, settings: Settings
) -> None:
    event = _forgotten(conversation, 52, TOPIC)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, event, 52)

    calls = _run(conversation, settings, steps)
    assert [name for name, _ in calls] == ["deleteForumTopic", "sendMessage"]
    assert calls[0][1] == {"chat_id": STAFF, "message_thread_id": TOPIC}
    assert "message_thread_id" not in calls[1][1]  # the topic is gone: said in the group
    assert calls[1][1]["text"].startswith(f"🗑 Caso #{event.ticket.id}")


def test_forget_of_a_closed_ticket_deletes_its_topic_silently(
    conversation: Conversation, settings: Settings
) -> None:
    event = _forgotten(conversation, 53, TOPIC, closed=True)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, event, 53)

    calls = _run(conversation, settings, steps)
    assert [name for name, _ in calls] == ["deleteForumTopic"]


def test_forget_without_topics_deletes_the_header_and_every_relayed_message(
    conversation: Conversation, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    event = _forgotten(conversation, 54, None)

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, event, 54)

    with caplog.at_level("INFO", logger="bot.transport.staff"):
        calls = _run(conversation, settings, steps, forum=False)
    assert calls[:2] == [
        ("deleteMessage", {"chat_id": STAFF, "message_id": 500}),
        ("deleteMessages", {"chat_id": STAFF, "message_ids": [501, 502]}),
    ]
    assert [name for name, _ in calls[2:]] == ["sendMessage"]
    assert "reply_to_message_id" not in calls[2][1]  # the header it would answer is gone
    assert f"ticket {event.ticket.id}: 1 staff messages older than 48 h stay" in caplog.text


def test_forget_goes_on_when_telegram_refuses_to_delete_and_empties_the_header(
    conversation: Conversation, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """No right to delete the topic, a header older than 48 h: the messages are asked one
    way after the other, the header loses the person's words, the topic is closed."""
    event = _forgotten(conversation, 55, TOPIC)
    refused = frozenset({"deleteForumTopic", "deleteMessage", "deleteMessages"})

    async def steps(staff: StaffDesk, bot: Bot) -> None:
        assert await staff.carry(bot, event, 55)

    with caplog.at_level("INFO", logger="bot.transport.staff"):
        calls = _run(conversation, settings, steps, refused=refused)
    names = [name for name, _ in calls]
    assert names == ["deleteForumTopic", "deleteMessage", "editMessageText", "deleteMessages",
                     "closeForumTopic", "sendMessage"]  # fmt: skip
    edited = calls[2][1]
    assert edited["message_id"] == 500 and edited["text"].startswith("🗑")
    assert calls[-1][1]["message_thread_id"] == TOPIC
    assert "topic not deleted (BadRequest)" in caplog.text
    assert "refused" not in caplog.text  # the kind of refusal only, never what Telegram said
