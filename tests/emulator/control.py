"""The test-facing control API: play the users' side and observe what the bot did.

Handlers take the shared state and one ``args`` dict (path params, query string and JSON body
merged) and return JSON. They raise ``ControlError`` when a test asks for something impossible,
so mistakes in tests surface as clear 4xx answers instead of silently odd behaviour.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any

from . import botapi, formatting
from .state import (
    ADMIN_STATUSES,
    GROUP_ANONYMOUS_BOT,
    JSON,
    PRESENT_STATUSES,
    ApiError,
    Chat,
    ControlError,
    EmulatorState,
    Fault,
    Topic,
)

ControlHandler = Callable[[EmulatorState, JSON], Awaitable[Any]]
ROUTES: list[tuple[str, str, ControlHandler]] = []


def route(http_method: str, path: str) -> Callable[[ControlHandler], ControlHandler]:
    def register(handler: ControlHandler) -> ControlHandler:
        ROUTES.append((http_method, path, handler))
        return handler

    return register


# ------------------------------------------------------------------ argument helpers


def _int(args: JSON, key: str, default: int | None = None) -> int:
    value = args.get(key, default)
    if value is None:
        raise ControlError(f"missing {key!r}")
    return int(value)


def _float(args: JSON, key: str, default: float) -> float:
    return float(args.get(key, default))


def _flag(args: JSON, key: str, default: bool = False) -> bool:
    value = args.get(key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _chat(state: EmulatorState, chat_id: Any) -> Chat:
    try:
        return state.chat(chat_id)
    except ApiError as error:
        raise ControlError(f"unknown chat {chat_id}", 404) from error


def chat_info(chat: Chat) -> JSON:
    """A test's view of a chat, including what Telegram does not expose (members, keyboard)."""
    return {
        "chat": chat.to_api(),
        "bot_status": chat.bot_status,
        "members": {str(user_id): status for user_id, status in chat.members.items()},
        "topics": [{**t.to_api(), "closed": t.closed} for t in chat.topics.values()],
        "reply_keyboard": chat.reply_keyboard,
        "message_count": len(chat.messages),
        "sent_count": len(chat.sent),
    }


# ------------------------------------------------------------------ world setup


@route("POST", "/reset")
async def reset(state: EmulatorState, args: JSON) -> JSON:
    state.reset()
    return {"ok": True}


@route("GET", "/state")
async def summary(state: EmulatorState, args: JSON) -> JSON:
    return {
        "bot": state.get_me(),
        "users": list(state.users.values()),
        "chats": [chat_info(chat) for chat in state.chats.values()],
        "pending_updates": len(state.updates),
        "waiting_polls": state.waiting_polls,
        "blocked": sorted(state.blocked),
        "webhook": await webhook(state, args),
    }


@route("POST", "/config")
async def configure(state: EmulatorState, args: JSON) -> JSON:
    """Change the bot's identity or privacy mode, or the webhook retry delay."""
    for key in ("first_name", "username", "privacy_mode", "supports_inline_queries"):
        if key in args:
            setattr(state.bot, key, args[key])
    if "webhook_retry_delay" in args:
        state.webhook_retry_delay = float(args["webhook_retry_delay"])
    return state.get_me()


@route("POST", "/clock")
async def clock(state: EmulatorState, args: JSON) -> JSON:
    """Shift the emulator's notion of "now" (message dates) by ``advance`` seconds."""
    state.clock_offset += _int(args, "advance", 0)
    return {"now": state.now()}


@route("POST", "/users")
async def upsert_user(state: EmulatorState, args: JSON) -> JSON:
    return state.upsert_user(args)


@route("POST", "/chats")
async def create_chat(state: EmulatorState, args: JSON) -> JSON:
    return chat_info(state.create_chat(args))


@route("GET", "/chats/{chat_id}")
async def get_chat(state: EmulatorState, args: JSON) -> JSON:
    return chat_info(_chat(state, args["chat_id"]))


@route("POST", "/chats/{chat_id}/members")
async def set_member(state: EmulatorState, args: JSON) -> JSON:
    chat = _chat(state, args["chat_id"])
    state.set_member(chat, _int(args, "user_id"), str(args.get("status", "member")))
    return chat_info(chat)


@route("POST", "/chats/{chat_id}/bot_status")
async def set_bot_status(state: EmulatorState, args: JSON) -> JSON:
    """Add, promote or remove the bot; Telegram reports this with a my_chat_member update."""
    chat = _chat(state, args["chat_id"])
    status = str(args.get("status", "member"))
    if chat.type == "private" or status not in ("member", "administrator", "left", "kicked"):
        raise ControlError("bot_status applies to groups: member, administrator, left or kicked")
    by = state.user(_int(args, "by_user_id"))
    return botapi.change_bot_status(state, chat, status, by)


@route("POST", "/chats/{chat_id}/topics")
async def create_topic(state: EmulatorState, args: JSON) -> JSON:
    """A user creates a forum topic; the bot sees the forum_topic_created service message."""
    chat = _chat(state, args["chat_id"])
    if not chat.is_forum:
        raise ControlError("chat is not a forum")
    user = state.user(_int(args, "user_id"))
    color = args.get("icon_color")
    topic, service = botapi.create_topic(state, chat, user, str(args["name"]), color)
    update = state.push_update("message", service)
    return {"topic": topic.to_api(), "message": service, "update": update}


@route("POST", "/files")
async def upload_file(state: EmulatorState, args: JSON) -> JSON:
    """Store bytes the bot can later fetch with getFile + the file download URL."""
    stored = _stored_file(state, str(args.get("kind", "document")), args)
    return {**stored.to_api(), "kind": stored.kind}


# ------------------------------------------------------------------ the users' side


def _check_author(state: EmulatorState, chat: Chat, user: JSON) -> None:
    """Users can only write where Telegram would let them."""
    if chat.type == "private":
        if chat.id != user["id"]:
            raise ControlError(f"user {user['id']} cannot write in the private chat {chat.id}")
        if chat.id in state.blocked:
            raise ControlError(f"user {chat.id} has blocked the bot; unblock first")
    elif chat.members.get(user["id"]) not in PRESENT_STATUSES:
        raise ControlError(f"user {user['id']} is not a member of chat {chat.id}")


def _text_content(text: str, entities: list[JSON] | None, key: str) -> JSON:
    """Text as Telegram stores a user's message: trimmed, entities auto-detected."""
    if formatting.utf16_len(text) > formatting.MAX_TEXT_LENGTH:
        raise ControlError("text longer than 4096 UTF-16 units; Telegram clients split it")
    text, entities = formatting.strip_text(text, entities or [])
    entities = formatting.sort_entities(entities + formatting.auto_entities(text, entities))
    content: JSON = {key: text}
    if entities:
        content["entities" if key == "text" else "caption_entities"] = entities
    return content


def _stored_file(state: EmulatorState, kind: str, spec: JSON) -> Any:
    content = None
    if spec.get("content_base64") is not None:
        try:
            content = base64.b64decode(spec["content_base64"], validate=True)
        except binascii.Error as error:
            raise ControlError("content_base64 is not valid base64") from error
    return state.register_file(
        kind,
        file_id=spec.get("file_id"),
        content=content,
        mime_type=spec.get("mime_type"),
        file_name=spec.get("file_name"),
        source="user",
    )


def _media_content(state: EmulatorState, args: JSON) -> JSON:
    for kind in ("voice", "photo", "sticker", "document", "audio", "video", "animation"):
        if kind in args:
            spec = args[kind] if isinstance(args[kind], dict) else {"file_id": args[kind]}
            stored = _stored_file(state, kind, spec)
            extra = {k: spec[k] for k in ("duration", "emoji") if spec.get(k) is not None}
            return {kind: botapi.media_object(state, kind, stored, **extra)}
    return {}


def _location(value: Any) -> JSON:
    if isinstance(value, list | tuple):
        value = {"latitude": value[0], "longitude": value[1]}
    return {"latitude": float(value["latitude"]), "longitude": float(value["longitude"])} | {
        k: v for k, v in value.items() if k not in ("latitude", "longitude")
    }


def _user_content(state: EmulatorState, args: JSON) -> JSON:
    if args.get("text") is not None:
        return _text_content(str(args["text"]), args.get("entities"), "text")
    content = _media_content(state, args)
    if "location" in args:
        content["location"] = _location(args["location"])
    if "contact" in args:
        content["contact"] = dict(args["contact"])
    if args.get("caption"):
        content.update(
            _text_content(str(args["caption"]), args.get("caption_entities"), "caption")
        )
    if not content:
        raise ControlError("a message needs text, location, contact or a media field")
    return content


def _user_thread(chat: Chat, args: JSON, reply_to: JSON | None) -> Topic | None:
    thread_id = args.get("message_thread_id")
    if thread_id is None and reply_to is not None:
        thread_id = reply_to.get("message_thread_id")
    if thread_id is None or not chat.is_forum:
        return None
    topic = chat.topics.get(int(thread_id))
    if topic is None:
        raise ControlError(f"chat {chat.id} has no topic {thread_id}")
    return topic


def _addressed_command(state: EmulatorState, message: JSON) -> bool:
    text = message.get("text") or message.get("caption") or ""
    for entity in message.get("entities") or message.get("caption_entities") or []:
        if entity["type"] == "bot_command":
            _, _, target = formatting.entity_text(text, entity).partition("@")
            if not target or target.lower() == state.bot.username.lower():
                return True
    return False


def visible_to_bot(state: EmulatorState, chat: Chat, message: JSON, explicit_reply: bool) -> str:
    """Why the bot does not get this message ("" if it does), following privacy mode rules."""
    if chat.type == "private":
        return ""
    if chat.bot_status not in PRESENT_STATUSES:
        return "the bot is not a member of the chat"
    if not state.bot.privacy_mode or chat.bot_status in ADMIN_STATUSES:
        return ""
    replied = message.get("reply_to_message", {}).get("from", {}).get("id")
    if _addressed_command(state, message) or (explicit_reply and replied == state.bot.id):
        return ""
    return "privacy mode: not a command for the bot nor a reply to it (see /config)"


def _deliver(state: EmulatorState, chat: Chat, kind: str, message: JSON, explicit: bool) -> JSON:
    reason = visible_to_bot(state, chat, message, explicit)
    update = None if reason else state.push_update(kind, message)
    return {"message": message, "update": update, "delivered": not reason, "reason": reason}


@route("POST", "/messages")
async def user_message(state: EmulatorState, args: JSON) -> JSON:
    """A user sends a message; the bot receives it as a ``message`` update."""
    user = state.user(_int(args, "user_id"))
    chat = _chat(state, args.get("chat_id", user["id"]))
    _check_author(state, chat, user)
    content = _user_content(state, args)
    reply_to = None
    if args.get("reply_to_message_id") is not None:
        reply_to = chat.live_message(_int(args, "reply_to_message_id"))
        if reply_to is None:
            raise ControlError(f"no message {args['reply_to_message_id']} in chat {chat.id}")
    thread = _user_thread(chat, args, reply_to)
    sender = user
    if args.get("anonymous"):
        sender, content = _as_group(chat, user, content, args.get("author_signature"))
    message = state.store_message(chat, sender, content, thread=thread, reply_to=reply_to)
    return _deliver(state, chat, "message", message, explicit=reply_to is not None)


def _as_group(chat: Chat, user: JSON, content: JSON, signature: Any) -> tuple[JSON, JSON]:
    """An anonymous administrator posts as the group: from GroupAnonymousBot, with the group
    as sender_chat and the admin's custom title, if any, as author_signature."""
    if chat.type == "private" or chat.members.get(user["id"]) not in ADMIN_STATUSES:
        raise ControlError(f"only an administrator of a group can post anonymously in {chat.id}")
    content = {**content, "sender_chat": chat.to_api()}
    if signature:
        content["author_signature"] = str(signature)
    return dict(GROUP_ANONYMOUS_BOT), content


@route("POST", "/messages/edit")
async def edit_user_message(state: EmulatorState, args: JSON) -> JSON:
    """A user edits their message; the bot receives an ``edited_message`` update."""
    chat = _chat(state, args["chat_id"])
    message = chat.live_message(_int(args, "message_id"))
    if message is None or message["from"].get("is_bot"):
        raise ControlError("only existing user messages can be edited this way")
    key = "text" if "text" in message else "caption"
    entities_key = "entities" if key == "text" else "caption_entities"
    message.pop(entities_key, None)
    message.update(_text_content(str(args.get("text", args.get("caption", ""))), None, key))
    message["edit_date"] = state.now()
    explicit = "reply_to_message" in message and not message.get("is_topic_message")
    return _deliver(state, chat, "edited_message", message, explicit)


def _button_data(message: JSON) -> dict[str, str]:
    """callback_data by button text for every callback button of a message."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


@route("POST", "/callback")
async def press_button(state: EmulatorState, args: JSON) -> JSON:
    """A user presses an inline button (by ``data`` or button ``text``); ``forge`` skips checks."""
    user = state.user(_int(args, "user_id"))
    chat = _chat(state, args.get("chat_id", user["id"]))
    _check_author(state, chat, user)
    message = chat.live_message(_int(args, "message_id"))
    if message is None:
        raise ControlError(f"no message {args['message_id']} in chat {chat.id}", 404)
    buttons = _button_data(message)
    data = args.get("data")
    if data is None and args.get("text") in buttons:
        data = buttons[args["text"]]
    if not _flag(args, "forge") and data not in buttons.values():
        raise ControlError(f"message has no button with callback_data {data!r}; has {buttons}")
    query_id = state.callback_id()
    query = {
        "id": query_id,
        "from": user,
        "message": copy.deepcopy(message),
        "chat_instance": str(8_000_000_000_000_000_000 + abs(chat.id)),
        "data": data,
    }
    state.callback_queries[query_id] = {"query": query, "answer": None}
    update = state.push_update("callback_query", query)
    return {"callback_query": query, "update": update}


@route("GET", "/callback/{query_id}")
async def callback_answer(state: EmulatorState, args: JSON) -> JSON:
    """How the bot answered a callback query (``answer`` is null until it does)."""
    entry = state.callback_queries.get(str(args["query_id"]))
    if entry is None:
        raise ControlError(f"unknown callback query {args['query_id']}", 404)
    timeout = _float(args, "timeout", 0)
    answered = await state.wait_until(lambda: entry["answer"] is not None, timeout)
    return {**entry, "timed_out": timeout > 0 and not answered}


@route("POST", "/users/{user_id}/block")
async def block(state: EmulatorState, args: JSON) -> JSON:
    """The user blocks the bot: sends fail with 403 and the bot gets my_chat_member(kicked)."""
    return _set_blocked(state, args, blocked=True)


@route("POST", "/users/{user_id}/unblock")
async def unblock(state: EmulatorState, args: JSON) -> JSON:
    return _set_blocked(state, args, blocked=False)


def _set_blocked(state: EmulatorState, args: JSON, blocked: bool) -> JSON:
    user = state.user(_int(args, "user_id"))
    if (user["id"] in state.blocked) == blocked:
        return {"update": None}
    chat = state.chats[user["id"]]
    if blocked:
        state.blocked.add(user["id"])
    else:
        state.blocked.discard(user["id"])
    update = botapi.change_bot_status(state, chat, "kicked" if blocked else "member", user)
    if _flag(args, "notify", True):
        return {"update": update}
    state.updates.remove(update)
    state.update_log.remove(update)
    return {"update": None}


@route("POST", "/updates")
async def inject_update(state: EmulatorState, args: JSON) -> JSON:
    """Queue any update verbatim (an escape hatch for update types without a helper)."""
    update = dict(args.get("update", args))
    update.pop("update_id", None)
    if len(update) != 1:
        raise ControlError("an update has exactly one field besides update_id")
    kind, payload = next(iter(update.items()))
    return state.push_update(kind, payload)


@route("GET", "/updates")
async def list_updates(state: EmulatorState, args: JSON) -> JSON:
    return {"pending": state.updates, "log": state.update_log}


# ------------------------------------------------------------------ what the bot did


@route("GET", "/chats/{chat_id}/messages")
async def chat_messages(state: EmulatorState, args: JSON) -> JSON:
    """The chat history (current versions), optionally only the bot's or the users' side."""
    chat = _chat(state, args["chat_id"])
    sender = args.get("sender", "all")
    include_deleted = _flag(args, "include_deleted")
    messages = [
        message
        for message_id, message in chat.messages.items()
        if (include_deleted or message_id not in chat.deleted)
        and (sender == "all" or (message["from"].get("id") == state.bot.id) == (sender == "bot"))
    ]
    return {"messages": messages, "deleted": sorted(chat.deleted)}


@route("GET", "/chats/{chat_id}/messages/{message_id}")
async def chat_message(state: EmulatorState, args: JSON) -> JSON:
    chat = _chat(state, args["chat_id"])
    message = chat.messages.get(_int(args, "message_id"))
    if message is None:
        raise ControlError(f"no message {args['message_id']} in chat {chat.id}", 404)
    return {"message": message, "deleted": message["message_id"] in chat.deleted}


@route("GET", "/chats/{chat_id}/sent")
async def sent_messages(state: EmulatorState, args: JSON) -> JSON:
    """Messages the bot sent to a chat after the first ``after``; long-polls for ``count``."""
    chat_id, after = _int(args, "chat_id"), _int(args, "after", 0)
    count = _int(args, "count", 0)

    def sent() -> list[int]:
        chat = state.chats.get(chat_id)
        return chat.sent[after:] if chat else []

    ready = await state.wait_until(lambda: len(sent()) >= count, _float(args, "timeout", 0))
    ids = sent()[:count] if count else sent()
    chat = state.chats.get(chat_id)
    messages = [chat.messages[i] for i in ids] if chat else []
    total = len(chat.sent) if chat else 0
    return {"messages": messages, "total": total, "timed_out": not ready}


@route("GET", "/calls")
async def calls(state: EmulatorState, args: JSON) -> JSON:
    """Completed Bot API calls with seq > ``after``; long-polls until ``count`` match."""
    wanted = str(args.get("method") or "").lower()
    after, count = _int(args, "after", 0), _int(args, "count", 0)

    def matching() -> list[JSON]:
        return [
            call
            for call in state.calls
            if call["seq"] > after and (not wanted or call["method"].lower() == wanted)
        ]

    ready = await state.wait_until(lambda: len(matching()) >= count, _float(args, "timeout", 0))
    found = matching()
    return {"calls": found[:count] if count else found, "timed_out": not ready}


@route("GET", "/commands")
async def commands(state: EmulatorState, args: JSON) -> JSON:
    """Every stored command list by (scope, language_code), plus menu buttons."""
    return {
        "commands": [
            {"scope": json.loads(scope), "language_code": language, "commands": stored}
            for (scope, language), stored in state.commands.items()
        ],
        "menu_buttons": [
            {"chat_id": chat_id, "menu_button": button}
            for chat_id, button in state.menu_buttons.items()
        ],
    }


@route("POST", "/flood")
async def flood(state: EmulatorState, args: JSON) -> JSON:
    """Make the next ``times`` calls of ``method`` (or ``*``) fail with 429 retry_after."""
    name = str(args["method"])
    times, retry_after = _int(args, "times", 1), _int(args, "retry_after", 5)
    if times <= 0:
        state.floods.pop(name.lower(), None)
    else:
        state.floods[name.lower()] = [times, retry_after]
    return {"floods": state.floods}


@route("POST", "/fault")
async def fault(state: EmulatorState, args: JSON) -> JSON:
    """After ``after`` calls, make the next ``times`` calls of ``method`` (or ``*``) fail
    with ``status`` (500); with ``delivered`` each takes effect first, only its answer fails."""
    name = str(args["method"]).lower()
    times = _int(args, "times", 1)
    if times <= 0:
        state.faults.pop(name, None)
    else:
        state.faults[name] = Fault(
            times, _int(args, "status", 500), _flag(args, "delivered"), _int(args, "after", 0)
        )
    return {"faults": {k: vars(f) for k, f in state.faults.items()}}


@route("GET", "/webhook")
async def webhook(state: EmulatorState, args: JSON) -> JSON:
    hook = state.webhook
    return {
        "url": hook.url,
        "secret_token": hook.secret_token,
        "allowed_updates": hook.allowed_updates,
        "pending_update_count": len(state.updates),
        "last_error_date": hook.last_error_date,
        "last_error_message": hook.last_error_message,
        "deliveries": hook.deliveries,
    }


@route("GET", "/polls")
async def polls(state: EmulatorState, args: JSON) -> JSON:
    """Wait until at least ``min`` getUpdates requests are parked, to race-free test polling."""
    wanted = _int(args, "min", 1)
    ready = await state.wait_until(
        lambda: state.waiting_polls >= wanted, _float(args, "timeout", 0)
    )
    return {"waiting": state.waiting_polls, "timed_out": not ready}
