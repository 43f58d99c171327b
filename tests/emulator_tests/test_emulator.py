"""The emulator behaves like Telegram for a real python-telegram-bot 22 Application.

One emulator process serves the module (started on a free port); every test resets its state.
Run with ``cd /work/main && .venv/bin/python -m pytest tests/emulator_tests -q``.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.server
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

import httpx
import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from tests.emulator import DEFAULT_TOKEN, EmulatorState, create_app, formatting
from tests.emulator.client import EmulatorClient, EmulatorError, run_emulator
from tests.emulator.ptb import BackgroundApplication

TOKEN = DEFAULT_TOKEN
ANN, BOB = 1001, 1002
T = TypeVar("T")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


@pytest.fixture
def emu(emulator: EmulatorClient) -> EmulatorClient:
    """A clean emulator with two known users."""
    emulator.reset()
    emulator.user(ANN, "Ann", username="ann", language_code="en")
    emulator.user(BOB, "Bob", language_code="ru")
    return emulator


def build_app(emu: EmulatorClient, token: str = TOKEN) -> Application:  # type: ignore[type-arg]
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{emu.url}/bot")
        .base_file_url(f"{emu.url}/file/bot")
        .build()
    )


def with_bot(emu: EmulatorClient, action: Callable[[ExtBot[None]], Awaitable[T]]) -> T:
    """Run ``action(bot)`` inside an initialized Application (initialize calls getMe)."""

    async def main() -> T:
        async with build_app(emu) as app:
            return await action(app.bot)

    return asyncio.run(main())


def seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ------------------------------------------------------------------ python-telegram-bot


def test_get_me_through_application(emu: EmulatorClient) -> None:
    me = with_bot(emu, lambda bot: bot.get_me())
    assert me.is_bot and me.id == emu.bot_id
    assert me.username == "emulator_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go:1")]])
    await update.message.reply_text(
        f"Welcome {' '.join(context.args or [])}", reply_markup=keyboard
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("pressed")
    await query.edit_message_text(f"chose {query.data}")


def test_polling_application_handles_command_text_and_button(emu: EmulatorClient) -> None:
    app = build_app(emu)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    with BackgroundApplication(app):
        emu.send_command(ANN, "start", "ref42")
        [welcome] = emu.wait_for_messages(ANN)
        assert welcome["text"] == "Welcome ref42"
        assert welcome["from"]["id"] == emu.bot_id and welcome["from"]["is_bot"] is True
        assert welcome["chat"] == {
            "id": ANN,
            "type": "private",
            "first_name": "Ann",
            "username": "ann",
        }
        assert welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go:1"

        emu.send_text(ANN, "hello bot")
        [reply] = emu.wait_for_messages(ANN)
        assert reply["text"] == "hello bot"
        assert reply["message_id"] > welcome["message_id"]

        query = emu.press_button(ANN, welcome, "go:1")
        assert emu.callback_answer(query["id"]) == {
            "text": "pressed",
            "show_alert": False,
            "url": None,
            "cache_time": 0,
        }
        [edit] = emu.wait_for_calls("editMessageText")
    assert edit["ok"] and edit["result"]["text"] == "chose go:1"
    edited = emu.message(ANN, welcome["message_id"])
    assert edited["text"] == "chose go:1" and isinstance(edited["edit_date"], int)
    assert "reply_markup" not in edited  # editing without reply_markup drops the keyboard
    sent = [call["params"]["text"] for call in emu.calls("sendMessage")]
    assert sent == ["Welcome ref42", "hello bot"]


def test_edit_message_text_returns_edited_message(emu: EmulatorClient) -> None:
    async def edit_twice(bot: ExtBot[None]) -> Message:
        sent = await bot.send_message(ANN, "draft")
        edited = await bot.edit_message_text("final", chat_id=ANN, message_id=sent.message_id)
        assert isinstance(edited, Message)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("final", chat_id=ANN, message_id=sent.message_id)
        return edited

    edited = with_bot(emu, edit_twice)
    assert edited.text == "final" and edited.edit_date is not None


def test_send_location_and_venue(emu: EmulatorClient) -> None:
    async def send(bot: ExtBot[None]) -> tuple[Message, Message]:
        spot = await bot.send_location(ANN, latitude=48.8606, longitude=2.3376)
        venue = await bot.send_venue(
            ANN, latitude=48.8606, longitude=2.3376, title="Louvre", address="Rue de Rivoli"
        )
        return spot, venue

    spot, venue = with_bot(emu, send)
    assert spot.location is not None and spot.location.latitude == pytest.approx(48.8606)
    assert venue.venue is not None and venue.venue.title == "Louvre"
    assert venue.location is not None and venue.venue.location.longitude == pytest.approx(2.3376)
    raw = emu.messages(ANN, sender="bot")
    assert [m["message_id"] for m in raw] == [1, 2]
    assert all(isinstance(m["date"], int) and abs(m["date"] - time.time()) < 60 for m in raw)


def test_commands_are_stored_per_scope_and_language(emu: EmulatorClient) -> None:
    private = BotCommandScopeAllPrivateChats()

    async def configure(bot: ExtBot[None]) -> list[tuple[BotCommand, ...]]:
        await bot.set_my_commands([BotCommand("start", "Start")])
        await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
        await bot.set_my_commands([BotCommand("help", "Help")], scope=private)
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        found = [
            await bot.get_my_commands(),
            await bot.get_my_commands(language_code="ru"),
            await bot.get_my_commands(scope=private),
        ]
        await bot.delete_my_commands(language_code="ru")
        return [*found, await bot.get_my_commands(language_code="ru")]

    default, russian, private_only, deleted = with_bot(emu, configure)
    assert [c.description for c in default] == ["Start"]
    assert [c.description for c in russian] == ["Начать"]
    assert [c.command for c in private_only] == ["help"]
    assert deleted == ()
    assert {(c["scope"]["type"], c["language_code"]) for c in emu.commands()} == {
        ("default", ""),
        ("all_private_chats", ""),
    }


def test_forum_topics(emu: EmulatorClient) -> None:
    forum = emu.group("Forum", {ANN: "member"}, is_forum=True, bot_status="administrator")
    plain = emu.group("Plain", {ANN: "member"})

    async def use_topics(bot: ExtBot[None]) -> tuple[ForumTopic, Message]:
        topic = await bot.create_forum_topic(forum["id"], "Support")
        message = await bot.send_message(
            forum["id"], "hi", message_thread_id=topic.message_thread_id
        )
        assert await bot.edit_forum_topic(forum["id"], topic.message_thread_id, name="Help")
        assert await bot.close_forum_topic(forum["id"], topic.message_thread_id)
        assert await bot.reopen_forum_topic(forum["id"], topic.message_thread_id)
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(forum["id"], "x", message_thread_id=999)
        with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
            await bot.create_forum_topic(plain["id"], "Nope")
        return topic, message

    topic, message = with_bot(emu, use_topics)
    assert topic.name == "Support" and topic.icon_color == 7322096
    assert message.message_thread_id == topic.message_thread_id and message.is_topic_message
    question = emu.send(
        ANN, forum["id"], text="question", message_thread_id=topic.message_thread_id
    )
    assert question["delivered"]  # the bot is an administrator: privacy mode does not apply
    assert question["message"]["reply_to_message"]["forum_topic_created"]["name"] == "Support"
    assert emu.chat(forum["id"])["topics"][0]["name"] == "Help"


def test_blocked_user_gets_403(emu: EmulatorClient) -> None:
    emu.block(ANN)

    async def send(bot: ExtBot[None]) -> None:
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(ANN, "are you there?")
        await bot.send_message(BOB, "Bob did not block the bot")

    with_bot(emu, send)
    assert emu.bot_api("sendMessage", chat_id=ANN, text="x") == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    [update] = emu.updates()["pending"]
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"


def test_flood_control_returns_retry_after(
    emu: EmulatorClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22.2+ warns unless retry_after is a timedelta
    emu.flood("sendMessage", times=2, retry_after=3)
    assert emu.bot_api("sendMessage", chat_id=ANN, text="x") == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }

    async def send(bot: ExtBot[None]) -> Message:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ANN, "x")
        assert seconds(caught.value.retry_after) == 3
        return await bot.send_message(ANN, "third time lucky")

    assert with_bot(emu, send).text == "third time lucky"


def test_unknown_method_is_404_and_bad_tokens_are_401(emu: EmulatorClient) -> None:
    unknown = httpx.get(f"{emu.url}/bot{TOKEN}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert httpx.get(f"{emu.url}/bot{TOKEN}/GETME").json()["ok"] is True
    unauthorized = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    for token in ("123:short", "987654321:" + "A" * 35, "not-a-token"):
        response = httpx.post(f"{emu.url}/bot{token}/getMe")
        assert (response.status_code, response.json()) == (401, unauthorized)

    async def unknown_endpoint(bot: ExtBot[None]) -> None:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy")

    with_bot(emu, unknown_endpoint)

    async def wrong_token() -> None:
        app = build_app(emu, token="987654321:" + "A" * 35)
        try:
            with pytest.raises(InvalidToken):
                await app.initialize()
        finally:
            await app.bot.shutdown()  # app.shutdown() is a no-op after a failed initialize

    asyncio.run(wrong_token())


def test_get_updates_long_poll_waits_and_returns_early(emu: EmulatorClient) -> None:
    started = time.monotonic()
    assert emu.bot_api("getUpdates", timeout=1)["result"] == []
    assert time.monotonic() - started >= 0.9  # nothing arrived: it waited the whole timeout

    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        poll = pool.submit(emu.bot_api, "getUpdates", timeout=10)
        emu.wait_for_poller()
        emu.send_text(ANN, "ping")
        answer = poll.result(timeout=5)
    assert time.monotonic() - started < 3
    [update] = answer["result"]
    assert update["message"]["text"] == "ping"


def test_second_poller_terminates_the_first_with_409(emu: EmulatorClient) -> None:
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(emu.bot_api, "getUpdates", timeout=10)
        emu.wait_for_poller()
        assert emu.bot_api("getUpdates")["ok"] is True
        assert first.result(timeout=5) == {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        }


def test_offset_limit_and_allowed_updates(emu: EmulatorClient) -> None:
    for text in ("one", "two", "three"):
        emu.send_text(ANN, text)
    ids = [u["update_id"] for u in emu.bot_api("getUpdates")["result"]]
    assert len(ids) == 3 and ids == sorted(ids)
    assert [u["update_id"] for u in emu.bot_api("getUpdates", limit=1)["result"]] == ids[:1]
    assert [u["update_id"] for u in emu.bot_api("getUpdates", offset=ids[1])["result"]] == ids[1:]
    assert emu.bot_api("getUpdates", offset=ids[2] + 1)["result"] == []
    assert emu.bot_api("getUpdates")["result"] == []  # confirmed updates are gone for good

    emu.send_text(ANN, "four")
    emu.send_text(ANN, "five")
    [last] = emu.bot_api("getUpdates", offset=-1)["result"]
    assert last["message"]["text"] == "five"
    assert [u["message"]["text"] for u in emu.bot_api("getUpdates")["result"]] == ["five"]

    sent = emu.bot_api("sendMessage", chat_id=ANN, text="pick", reply_markup=_button("a"))
    emu.press_button(ANN, sent["result"], "a")
    kinds = emu.bot_api("getUpdates", allowed_updates=["callback_query"])["result"]
    assert [list(u)[1] for u in kinds] == ["callback_query"]


def _button(data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": data.upper(), "callback_data": data}]]}


# ------------------------------------------------------------------ validation and shapes


def test_send_message_validation_matches_telegram(emu: EmulatorClient) -> None:
    def error(**params: Any) -> str:
        answer = emu.bot_api("sendMessage", chat_id=ANN, **params)
        assert answer["ok"] is False and answer["error_code"] == 400
        return str(answer["description"])

    assert error(text="<b>bold", parse_mode="HTML") == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert error(text="1 < 2", parse_mode="HTML").startswith(
        "Bad Request: can't parse entities: Unsupported start tag"
    )
    assert error(text="v1.5", parse_mode="MarkdownV2") == (
        "Bad Request: can't parse entities: "
        "Character '.' is reserved and must be escaped with the preceding '\\'"
    )
    assert error(text="x" * 4097) == "Bad Request: message is too long"
    assert error(text="") == "Bad Request: message text is empty"
    assert error(text="  <b></b> ", parse_mode="HTML") == "Bad Request: message text is empty"
    assert error(text="x", reply_markup=_button("x" * 65)) == "Bad Request: BUTTON_DATA_INVALID"
    assert error(text="x", reply_markup=_button("")) == "Bad Request: BUTTON_DATA_INVALID"
    assert (
        error(text="x", reply_to_message_id=999) == "Bad Request: message to be replied not found"
    )
    assert emu.bot_api("sendMessage", chat_id=5, text="x")["description"] == (
        "Bad Request: chat not found"
    )


def test_formatting_yields_plain_text_and_utf16_entities(emu: EmulatorClient) -> None:
    answer = emu.bot_api(
        "sendMessage", chat_id=ANN, text="🎉 <b>big <i>deal</i></b> &lt;3", parse_mode="HTML"
    )
    message = answer["result"]
    assert message["text"] == "🎉 big deal <3"
    assert message["entities"] == [
        {"type": "bold", "offset": 3, "length": 8},  # the emoji counts as 2 UTF-16 units
        {"type": "italic", "offset": 7, "length": 4},
    ]
    text, entities = formatting.parse_markdown_v2(r"*bold* _it_ __u__ [link](https://x.org) \.")
    assert text == "bold it u link ."
    assert [e["type"] for e in entities] == ["bold", "italic", "underline", "text_link"]
    with pytest.raises(formatting.EntityParseError, match="Can't find end of Bold entity"):
        formatting.parse_markdown_v2("*open")
    with pytest.raises(formatting.EntityParseError, match="Unmatched end tag"):
        formatting.parse_html("<b><i>x</b></i>")


def test_keyboards_reply_parameters_and_threads(emu: EmulatorClient) -> None:
    location_keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share location", request_location=True)]], resize_keyboard=True
    )

    async def send(bot: ExtBot[None]) -> Message:
        first = await bot.send_message(ANN, "where are you?", reply_markup=location_keyboard)
        assert first.reply_markup is None  # Telegram only echoes inline keyboards
        shown = emu.chat(ANN)["reply_keyboard"]  # what Ann's client now displays
        assert shown["keyboard"][0][0]["request_location"] is True
        return await bot.send_message(
            ANN, "thanks", reply_to_message_id=first.message_id, reply_markup=ReplyKeyboardRemove()
        )

    reply = with_bot(emu, send)
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "where are you?"
    assert emu.chat(ANN)["reply_keyboard"] is None
    location = emu.send_location(ANN, 52.52, 13.40)
    assert location["location"] == {"latitude": 52.52, "longitude": 13.4}


def test_group_privacy_mode_replies_and_membership(emu: EmulatorClient) -> None:
    group = emu.group("Friends", {ANN: "creator", BOB: "member"}, bot_status="left")
    added = emu.add_bot_to_group(group["id"], by_user_id=ANN)["my_chat_member"]
    assert (added["old_chat_member"]["status"], added["new_chat_member"]["status"]) == (
        "left",
        "member",
    )
    assert added["chat"]["id"] < -1_000_000_000_000 and added["chat"]["type"] == "supergroup"

    assert not emu.send(BOB, group["id"], text="hello everyone")["delivered"]
    assert emu.send(BOB, group["id"], text="/start@emulator_test_bot")["delivered"]
    assert not emu.send(BOB, group["id"], text="/start@other_bot")["delivered"]
    bot_message = emu.bot_api("sendMessage", chat_id=group["id"], text="I am here")["result"]
    reply = emu.send(
        BOB, group["id"], text="hi bot", reply_to_message_id=bot_message["message_id"]
    )
    assert reply["delivered"]
    assert reply["update"]["message"]["reply_to_message"]["from"]["id"] == emu.bot_id

    async def membership(bot: ExtBot[None]) -> list[str]:
        statuses = [(await bot.get_chat_member(group["id"], user)).status for user in (ANN, BOB)]
        assert await bot.leave_chat(group["id"])
        with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
            await bot.send_message(group["id"], "still here?")
        return statuses

    assert with_bot(emu, membership) == ["creator", "member"]


def test_copy_forward_delete_and_chat_action(emu: EmulatorClient) -> None:
    original = emu.send_text(ANN, "keep this")

    async def act(bot: ExtBot[None]) -> tuple[int, Message]:
        copied = await bot.copy_message(BOB, from_chat_id=ANN, message_id=original["message_id"])
        forwarded = await bot.forward_message(BOB, ANN, original["message_id"])
        assert await bot.send_chat_action(ANN, "typing")
        with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
            await bot.send_chat_action(ANN, "dancing")
        assert await bot.delete_message(BOB, forwarded.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(BOB, forwarded.message_id)
        return copied.message_id, forwarded

    copied_id, forwarded = with_bot(emu, act)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == ANN  # type: ignore[attr-defined]
    assert emu.message(BOB, copied_id)["text"] == "keep this"
    assert [m["message_id"] for m in emu.messages(BOB)] == [copied_id]


def test_files_upload_and_download_through_ptb(emu: EmulatorClient) -> None:
    voice = emu.send_voice(ANN, content=b"OggS-fake-voice", duration=3)["voice"]
    assert voice["duration"] == 3 and voice["mime_type"] == "audio/ogg"

    async def roundtrip(bot: ExtBot[None]) -> tuple[bytes, bytes, Message]:
        downloaded = await (await bot.get_file(voice["file_id"])).download_as_bytearray()
        sent = await bot.send_voice(ANN, voice=b"\x00bot-voice\r\n--", duration=1)
        assert sent.voice is not None
        echoed = await (await bot.get_file(sent.voice.file_id)).download_as_bytearray()
        sticker = await bot.send_sticker(ANN, sticker="CAACAgIAAxkBAAEKnown")
        return bytes(downloaded), bytes(echoed), sticker

    downloaded, echoed, sticker = with_bot(emu, roundtrip)
    assert downloaded == b"OggS-fake-voice"
    assert echoed == b"\x00bot-voice\r\n--"
    assert sticker.sticker is not None and sticker.sticker.file_id == "CAACAgIAAxkBAAEKnown"
    assert emu.calls("sendSticker")[0]["params"]["sticker"] == "CAACAgIAAxkBAAEKnown"


def test_edited_message_and_get_chat(emu: EmulatorClient) -> None:
    original = emu.send_text(ANN, "tpyo")
    edited = emu.edit_text(ANN, original["message_id"], "typo")
    assert edited["text"] == "typo" and edited["edit_date"] >= edited["date"]
    kinds = [list(u)[1] for u in emu.bot_api("getUpdates")["result"]]
    assert kinds == ["message", "edited_message"]

    chat = with_bot(emu, lambda bot: bot.get_chat(ANN))
    assert chat.first_name == "Ann" and chat.type == "private"


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Webhook endpoint that fails the first delivery, to exercise retries."""

    received: ClassVar[list[tuple[dict[str, str], dict[str, Any]]]] = []
    done: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((dict(self.headers), body))
        self.send_response(500 if len(self.received) == 1 else 200)
        self.end_headers()
        if len(self.received) >= 2:
            self.done.set()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_delivery_with_secret_and_retry(emu: EmulatorClient) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        emu.configure(webhook_retry_delay=0.05)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        answer = emu.bot_api("setWebhook", url=url, secret_token="s3cret")
        assert answer == {"ok": True, "result": True, "description": "Webhook was set"}
        assert emu.bot_api("getUpdates")["error_code"] == 409
        emu.send_text(ANN, "via webhook")
        assert _Receiver.done.wait(5)
        info = _eventually(lambda: emu.bot_api("getWebhookInfo")["result"], "pending_update_count")
    finally:
        server.shutdown()
        server.server_close()
    (headers, first), (_, second) = _Receiver.received
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert first == second and first["message"]["text"] == "via webhook"
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )
    deleted = emu.bot_api("deleteWebhook")
    assert deleted["description"] == "Webhook was deleted"
    assert emu.bot_api("getUpdates")["result"] == []


def _eventually(read: Callable[[], dict[str, Any]], zero_key: str) -> dict[str, Any]:
    """Poll briefly until ``read()[zero_key]`` is 0 (the webhook ack lands asynchronously)."""
    deadline = time.monotonic() + 5
    while (value := read())[zero_key] and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


# ------------------------------------------------------------------ in-process use


def test_in_process_app_with_long_poll() -> None:
    """create_app + EmulatorState work without a subprocess (e.g. through ASGITransport)."""
    state = EmulatorState()
    state.upsert_user({"id": ANN, "first_name": "Ann"})
    transport = httpx.ASGITransport(app=create_app(state))

    async def scenario() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            poll = asyncio.create_task(http.get(f"/bot{TOKEN}/getUpdates", params={"timeout": 5}))
            await state.wait_until(lambda: state.waiting_polls == 1, 5)
            await http.post("/_emulator/messages", json={"user_id": ANN, "text": "/start"})
            result: list[dict[str, Any]] = (await poll).json()["result"]
            return result

    [update] = asyncio.run(scenario())
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


def test_every_generated_update_parses_cleanly_in_ptb(emu: EmulatorClient) -> None:
    """No field of any update lands in PTB's api_kwargs, i.e. every shape is a known one."""
    forum = emu.group("Forum", {ANN: "administrator"}, is_forum=True, bot_status="left")
    emu.add_bot_to_group(forum["id"], by_user_id=ANN, status="administrator")
    emu.create_topic(forum["id"], ANN, "Ideas")
    emu.send_command(ANN, "start", "payload")
    emu.send_location(ANN, 1.5, 2.5)
    emu.send_voice(ANN)
    emu.send_photo(ANN, caption="look /here")
    emu.send_sticker(ANN)
    emu.send_document(ANN, b"hello", "notes.txt")
    emu.send_contact(ANN, "+100200300", "Ann")
    edited = emu.send_text(ANN, "draft")
    emu.edit_text(ANN, edited["message_id"], "final")
    button = emu.bot_api("sendMessage", chat_id=ANN, text="?", reply_markup=_button("yes"))
    emu.press_button(ANN, button["result"], text="YES")
    emu.press_button(ANN, button["result"], "forged-data", forge=True)
    emu.block(ANN)

    log = emu.updates()["log"]
    assert len(log) == 14
    for raw in log:
        assert list(_unknown_fields(Update.de_json(raw, None))) == [], raw
    assert log[-2]["callback_query"]["data"] == "forged-data"


def _unknown_fields(obj: object, path: str = "update") -> Iterator[tuple[str, dict[str, Any]]]:
    """Fields PTB did not recognise (it parks them in api_kwargs), anywhere in the tree."""
    if isinstance(obj, TelegramObject):
        if obj.api_kwargs:
            yield path, dict(obj.api_kwargs)
        for name, value in obj._get_attrs(recursive=False).items():  # PTB 22 internal
            yield from _unknown_fields(value, f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for index, value in enumerate(obj):
            yield from _unknown_fields(value, f"{path}[{index}]")


def test_webhook_management_and_misc_methods(emu: EmulatorClient) -> None:
    emu.send_text(ANN, "queued")
    assert emu.bot_api("getWebhookInfo")["result"]["pending_update_count"] == 1
    assert emu.bot_api("deleteWebhook", drop_pending_updates=True)["description"] == (
        "Webhook is already deleted"
    )
    assert emu.bot_api("getUpdates")["result"] == []

    async def misc(bot: ExtBot[None]) -> None:
        sent = await bot.send_message(
            ANN,
            "pick",
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("A", callback_data="a")
            ),
        )
        edited = await bot.edit_message_reply_markup(ANN, sent.message_id, reply_markup=None)
        assert isinstance(edited, Message) and edited.reply_markup is None
        assert await bot.set_chat_menu_button(ANN)
        assert await bot.set_my_description("Helps you", language_code="en")
        assert (await bot.get_my_description("en")).description == "Helps you"
        assert (await bot.get_chat_member(ANN, ANN)).status == "member"
        assert await bot.log_out()

    with_bot(emu, misc)
    with pytest.raises(EmulatorError, match="no button"):
        emu.press_button(ANN, emu.messages(ANN, sender="bot")[0], "a")  # the keyboard is gone


def test_an_anonymous_administrator_posts_as_the_group(emu: EmulatorClient) -> None:
    group = emu.group("Ops", {ANN: "administrator", BOB: "member"}, bot_status="administrator")
    sent = emu.send_text(ANN, "from the team", chat_id=group["id"], anonymous=True,
                         author_signature="Coordination")  # fmt: skip
    assert sent["from"] == {"id": 1087968824, "is_bot": True, "first_name": "Group",
                            "username": "GroupAnonymousBot"}  # fmt: skip
    assert sent["sender_chat"]["id"] == group["id"] and sent["author_signature"] == "Coordination"
    assert emu.messages(group["id"], sender="bot") == []  # the group's post is not the bot's
    with pytest.raises(EmulatorError, match="only an administrator"):
        emu.send_text(BOB, "me too", chat_id=group["id"], anonymous=True)


def test_a_message_older_than_48_hours_cannot_be_deleted(emu: EmulatorClient) -> None:
    group = emu.group("Ops", {ANN: "member"}, bot_status="administrator")

    async def post(bot: ExtBot[None], text: str) -> int:
        return (await bot.send_message(group["id"], text)).message_id

    old = with_bot(emu, lambda bot: post(bot, "old"))
    emu.clock(48 * 3600 + 1)
    fresh = with_bot(emu, lambda bot: post(bot, "fresh"))

    async def delete(bot: ExtBot[None]) -> None:
        with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
            await bot.delete_message(group["id"], old)
        assert await bot.delete_messages(group["id"], [old, fresh])  # skips what it may not

    with_bot(emu, delete)
    assert [m["text"] for m in emu.messages(group["id"])] == ["old"]
