"""Bot API methods: parameter decoding, validation and Telegram-shaped results.

Each handler takes the shared ``EmulatorState`` and the decoded ``Params`` and returns the
``result`` value, or raises ``ApiError`` carrying Telegram's exact error code and description.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import formatting
from .state import (
    ADMIN_STATUSES,
    JSON,
    ApiError,
    Chat,
    EmulatorState,
    StoredFile,
    Topic,
    bad_request,
    names,
    scope_key,
)


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes

    def describe(self) -> JSON:
        """What the call log shows instead of the bytes."""
        return {"upload": self.filename, "size": len(self.content), "mime_type": self.content_type}


@dataclass
class Described:
    """A result that Telegram accompanies with a top-level ``description`` (setWebhook...)."""

    result: Any
    description: str


# ------------------------------------------------------------------ parameters

_INT_FIELDS = names(
    "chat_id from_chat_id message_id message_thread_id reply_to_message_id offset limit "
    "user_id duration icon_color max_connections cache_time live_period heading "
    "proximity_alert_radius width height until_date"
)
_FLOAT_FIELDS = frozenset(["latitude", "longitude", "horizontal_accuracy", "timeout"])
_BOOL_FIELDS = names(
    "drop_pending_updates disable_notification protect_content show_alert "
    "allow_sending_without_reply disable_web_page_preview allow_paid_broadcast has_spoiler "
    "show_caption_above_media disable_content_type_detection"
)
_JSON_FIELDS = names(
    "reply_markup reply_parameters entities caption_entities commands scope menu_button "
    "allowed_updates link_preview_options message_ids rights media reaction"
)
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


def normalize_params(raw: dict[str, Any]) -> JSON:
    """Decode form/query strings into typed values, as Telegram accepts either form.

    python-telegram-bot posts everything as form fields with nested objects JSON-encoded, so
    ``reply_markup`` arrives as a string and ``chat_id`` as ``"123"``; JSON bodies arrive typed.
    """
    return {key: _normalize(key, value) for key, value in raw.items()}


def _normalize(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _INT_FIELDS and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if key in _FLOAT_FIELDS:
        try:
            return float(value)
        except ValueError:
            return value
    if key in _BOOL_FIELDS and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if key in _JSON_FIELDS or value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def loggable(params: JSON) -> JSON:
    """Params as stored in the call log: uploads are described rather than copied."""
    return {k: v.describe() if isinstance(v, Upload) else v for k, v in params.items()}


class Params:
    """Typed access to a call's parameters, failing the way Telegram fails."""

    def __init__(self, values: JSON, uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def _present(self, name: str, required: str | None) -> Any:
        """The value, or None when absent; absent and required is Telegram's 400."""
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(required)
            return None
        return value

    def string(self, name: str, *, required: str | None = None) -> str | None:
        value = self._present(name, required)
        return None if value is None else str(value)

    def integer(self, name: str, *, required: str | None = None) -> int | None:
        value = self._present(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(required or f"invalid {name} specified")
        return int(value)

    def number(self, name: str, *, required: str | None = None) -> float | None:
        value = self._present(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"invalid {name} specified")
        return float(value)

    def flag(self, name: str) -> bool:
        return self.values.get(name) is True

    def decoded(self, name: str, expected: type = dict) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, expected):
            raise bad_request(f"can't parse {name} JSON object")
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        return value if isinstance(value, int) else str(value)


# ------------------------------------------------------------------ registry

Handler = Callable[[EmulatorState, Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}


def method(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler under one or more camelCase names (looked up case-insensitively)."""

    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = (name, handler)
        return handler

    return register


def resolve(name: str) -> tuple[str, Handler] | None:
    return METHODS.get(name.lower())


# ------------------------------------------------------------------ bot, updates, webhook


@method("getMe")
async def get_me(state: EmulatorState, p: Params) -> JSON:
    return state.get_me()


@method("logOut", "close")
async def log_out(state: EmulatorState, p: Params) -> bool:
    return True


@method("getUpdates")
async def get_updates(state: EmulatorState, p: Params) -> list[JSON]:
    """Long polling with Telegram's offset/limit/timeout semantics and its 409 conflicts."""
    if state.webhook.url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    allowed = p.decoded("allowed_updates", list)
    if allowed is not None:
        state.allowed_updates = allowed
    state.confirm_updates(p.integer("offset") or 0)
    limit = min(max(p.integer("limit") or 100, 1), 100)
    generation = state.poll_generation = state.poll_generation + 1
    state.notify()  # wakes an older poll so it can fail with 409
    state.waiting_polls += 1
    try:
        await state.wait_until(
            lambda: (
                state.poll_generation != generation
                or bool(state.deliverable_updates(state.allowed_updates))
            ),
            p.number("timeout") or 0.0,
        )
    finally:
        state.waiting_polls -= 1
    if state.poll_generation != generation:
        raise ApiError(
            409,
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        )
    return state.deliverable_updates(state.allowed_updates)[:limit]


@method("setWebhook")
async def set_webhook(state: EmulatorState, p: Params) -> Described:
    url = p.string("url") or ""
    if not url:
        return _delete_webhook(state, p)
    if not re.match(r"https?://", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.string("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    if p.flag("drop_pending_updates"):
        state.updates.clear()
    already = state.webhook.url == url
    webhook = state.webhook
    webhook.url, webhook.secret_token = url, secret
    webhook.max_connections = p.integer("max_connections") or 40
    allowed = p.decoded("allowed_updates", list)
    if allowed is not None:  # one setting per bot, shared with getUpdates
        webhook.allowed_updates = state.allowed_updates = allowed
    state.notify()
    return Described(True, "Webhook is already set" if already else "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(state: EmulatorState, p: Params) -> Described:
    return _delete_webhook(state, p)


def _delete_webhook(state: EmulatorState, p: Params) -> Described:
    if p.flag("drop_pending_updates"):
        state.updates.clear()
    had_webhook = bool(state.webhook.url)
    state.webhook.url, state.webhook.secret_token = "", None
    state.notify()
    return Described(True, "Webhook was deleted" if had_webhook else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(state: EmulatorState, p: Params) -> JSON:
    webhook = state.webhook
    info: JSON = {
        "url": webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if webhook.url:
        info.update(max_connections=webhook.max_connections, ip_address="127.0.0.1")
        if webhook.allowed_updates is not None:
            info["allowed_updates"] = webhook.allowed_updates
    if webhook.last_error_date:
        info["last_error_date"] = webhook.last_error_date
        info["last_error_message"] = webhook.last_error_message
    return info


# ------------------------------------------------------------------ shared send machinery


def writable_chat(state: EmulatorState, p: Params) -> Chat:
    """The target chat of a send, refusing chats that blocked, kicked or lost the bot."""
    chat = state.chat(p.chat_id())
    if chat.type == "private":
        if chat.id in state.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
    elif chat.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
    elif chat.bot_status == "left":
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    return chat


def render_text(
    p: Params, text_field: str, mode_field: str, entities_field: str
) -> tuple[str, list[JSON]]:
    """Apply parse_mode (or explicit entities), trim, and add auto-detected entities."""
    raw = p.string(text_field) or ""
    explicit = p.decoded(entities_field, list)
    try:
        text, entities = (
            (raw, explicit)
            if explicit is not None
            else formatting.parse_text(raw, p.string(mode_field))
        )
    except formatting.EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from error
    except ValueError as error:
        raise bad_request(str(error)) from error
    text, entities = formatting.strip_text(text, entities)
    entities = formatting.sort_entities(entities + formatting.auto_entities(text, entities))
    return text, entities


def message_text(p: Params) -> JSON:
    """The text part of a sendMessage/editMessageText call, with Telegram's limits."""
    text, entities = render_text(p, "text", "parse_mode", "entities")
    if not text:
        raise bad_request("message text is empty")
    if formatting.utf16_len(text) > formatting.MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    return content


def caption(p: Params) -> JSON:
    text, entities = render_text(p, "caption", "parse_mode", "caption_entities")
    if formatting.utf16_len(text) > formatting.MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    content: JSON = {"caption": text} if text else {}
    if text and entities:
        content["caption_entities"] = entities
    return content


_INLINE_ACTIONS = names(
    "callback_data url web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay"
)


def reply_markup(p: Params) -> JSON | None:
    """Validate reply_markup the way Telegram does and return it."""
    value = p.get("reply_markup")
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        _check_rows(value["inline_keyboard"], "inline_keyboard", "InlineKeyboardMarkup")
        for row in value["inline_keyboard"]:
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in value:
        _check_rows(value["keyboard"], "keyboard", "ReplyKeyboardMarkup")
        for row in value["keyboard"]:
            for button in row:
                _check_keyboard_button(button)
    elif not (value.get("remove_keyboard") or value.get("force_reply")):
        raise bad_request("object expected as reply markup")
    return value


def _check_rows(rows: Any, name: str, owner: str) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{name}" of the {owner} should be an Array of Arrays')


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if not any(action in button for action in _INLINE_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not button["url"]:
        raise bad_request("BUTTON_URL_INVALID")


def _check_keyboard_button(button: Any) -> None:
    if isinstance(button, str):
        return
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse keyboard button: Text must be a String")


def inline_markup(p: Params) -> JSON | None:
    """reply_markup for edits, which only accept inline keyboards."""
    markup = reply_markup(p)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def reply_target(chat: Chat, p: Params) -> JSON | None:
    """The message being replied to, from reply_parameters or legacy reply_to_message_id."""
    parameters = p.decoded("reply_parameters") or {}
    message_id = parameters.get("message_id") or p.integer("reply_to_message_id")
    if not message_id:
        return None
    found = chat.live_message(int(message_id))
    if found is None and not (
        parameters.get("allow_sending_without_reply") or p.flag("allow_sending_without_reply")
    ):
        raise bad_request("message to be replied not found")
    return found


def target_thread(chat: Chat, p: Params, reply_to: JSON | None) -> Topic | None:
    """The forum topic a message goes to; replies inherit the topic of their target."""
    if not chat.is_forum:
        return None
    thread_id = p.integer("message_thread_id")
    if thread_id is None and reply_to is not None:
        thread_id = reply_to.get("message_thread_id")
    if thread_id is None or thread_id == 1:
        return None  # the General topic carries no message_thread_id
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.closed and chat.bot_status not in ADMIN_STATUSES:
        raise bad_request("TOPIC_CLOSED")
    return topic


def deliver(state: EmulatorState, p: Params, chat: Chat, content: JSON) -> JSON:
    """Store a bot message with reply, topic and keyboard handling shared by all send*."""
    reply_to = reply_target(chat, p)
    thread = target_thread(chat, p, reply_to)
    markup = reply_markup(p)
    if markup is not None and "inline_keyboard" in markup:
        content["reply_markup"] = markup
    if p.flag("protect_content"):
        content["has_protected_content"] = True
    message = state.store_message(
        chat, state.bot_user(), content, thread=thread, reply_to=reply_to
    )
    if markup is not None and "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup is not None and markup.get("remove_keyboard"):
        chat.reply_keyboard = None
    state.record_sent(chat, message)
    return message


# ------------------------------------------------------------------ sending


@method("sendMessage")
async def send_message(state: EmulatorState, p: Params) -> JSON:
    chat = writable_chat(state, p)
    return deliver(state, p, chat, message_text(p))


def location(p: Params) -> JSON:
    latitude = p.number("latitude", required="latitude is empty")
    longitude = p.number("longitude", required="longitude is empty")
    assert latitude is not None and longitude is not None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("GEO_POINT_INVALID")
    point: JSON = {"latitude": latitude, "longitude": longitude}
    for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if p.get(name) is not None:
            point[name] = p.get(name)
    return point


@method("sendLocation")
async def send_location(state: EmulatorState, p: Params) -> JSON:
    chat = writable_chat(state, p)
    return deliver(state, p, chat, {"location": location(p)})


@method("sendVenue")
async def send_venue(state: EmulatorState, p: Params) -> JSON:
    chat = writable_chat(state, p)
    point = location(p)
    venue: JSON = {
        "location": point,
        "title": p.string("title", required="title is empty"),
        "address": p.string("address", required="address is empty"),
    }
    for name in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if p.string(name):
            venue[name] = p.string(name)
    return deliver(state, p, chat, {"venue": venue, "location": point})


@method("sendContact")
async def send_contact(state: EmulatorState, p: Params) -> JSON:
    chat = writable_chat(state, p)
    contact: JSON = {
        "phone_number": p.string("phone_number", required="phone number is empty"),
        "first_name": p.string("first_name", required="first name is empty"),
    }
    if p.string("last_name"):
        contact["last_name"] = p.string("last_name")
    return deliver(state, p, chat, {"contact": contact})


_CHAT_ACTIONS = names(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)


@method("sendChatAction")
async def send_chat_action(state: EmulatorState, p: Params) -> bool:
    writable_chat(state, p)
    if p.string("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


_MEDIA_KINDS = ("photo", "voice", "document", "sticker", "audio", "video", "animation")
_DEFAULT_MIME = {
    "voice": "audio/ogg",
    "document": "application/octet-stream",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "animation": "video/mp4",
}


def input_file(state: EmulatorState, p: Params, kind: str) -> StoredFile:
    """Resolve a file_id, URL, ``attach://`` reference or direct upload into a stored file."""
    value = p.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.uploads.get(value.removeprefix("attach://"))
    if isinstance(value, Upload):
        return state.register_file(
            kind,
            content=value.content,
            mime_type=value.content_type,
            file_name=value.filename,
            source="upload",
        )
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {kind} in the request")
    if re.match(r"https?://", value):
        return state.register_file(kind, source="url", file_name=value.rsplit("/", 1)[-1])
    return state.register_file(kind, file_id=value)


def media_object(
    state: EmulatorState, kind: str, stored: StoredFile, **extra: Any
) -> JSON | list[JSON]:
    """The Telegram object (PhotoSize list, Voice, Sticker...) describing a stored file."""
    base: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if kind == "photo":
        return _photo_sizes(state, stored)
    if kind == "sticker":
        return {
            **base,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            **extra,
        }
    if kind in ("video", "animation"):
        base.update(width=640, height=360, duration=extra.pop("duration", None) or 1)
    if kind in ("voice", "audio"):
        base["duration"] = extra.pop("duration", None) or 1
    if kind == "document" or (stored.file_name and kind != "voice"):
        base["file_name"] = stored.file_name or "document"
    base["mime_type"] = stored.mime_type or _DEFAULT_MIME.get(kind, "application/octet-stream")
    return {**base, **extra}


def _photo_sizes(state: EmulatorState, stored: StoredFile) -> list[JSON]:
    """Telegram returns several sizes; the largest keeps the file_id the bot sent."""
    sizes: list[JSON] = []
    for width, height in ((90, 67), (320, 240), (800, 600)):
        size_file = stored
        if width != 800:
            size_file = state.register_file(
                "photo", file_id=f"{stored.file_id}-s{width}", content=stored.content
            )
        sizes.append(
            {
                "file_id": size_file.file_id,
                "file_unique_id": size_file.file_unique_id,
                "file_size": size_file.size,
                "width": width,
                "height": height,
            }
        )
    return sizes


def _media_handler(kind: str) -> Handler:
    async def send_media(state: EmulatorState, p: Params) -> JSON:
        chat = writable_chat(state, p)
        stored = input_file(state, p, kind)
        extra: JSON = {}
        if kind in ("voice", "audio", "video", "animation"):
            extra["duration"] = p.integer("duration")
        if kind == "sticker" and p.string("emoji"):
            extra["emoji"] = p.string("emoji")
        content: JSON = {kind: media_object(state, kind, stored, **extra)}
        if kind != "sticker":
            content.update(caption(p))
        return deliver(state, p, chat, content)

    send_media.__doc__ = f"send{kind.title()}: accepts a file_id, a URL or an upload."
    return send_media


for _kind in _MEDIA_KINDS:
    method(f"send{_kind.title()}")(_media_handler(_kind))


@method("getFile")
async def get_file(state: EmulatorState, p: Params) -> JSON:
    stored = state.files.get(p.string("file_id", required="file_id is empty") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()


CONTENT_KEYS = names(
    "text entities caption caption_entities photo voice document sticker audio video "
    "animation location venue contact"
)


def _source_message(state: EmulatorState, p: Params, missing: str) -> JSON:
    chat = state.chat(p.chat_id("from_chat_id"))
    message_id = p.integer("message_id", required="message identifier is not specified")
    assert message_id is not None
    return state.message(chat, message_id, missing)


@method("copyMessage")
async def copy_message(state: EmulatorState, p: Params) -> JSON:
    source = _source_message(state, p, "message to copy not found")
    content = {key: source[key] for key in CONTENT_KEYS if key in source}
    if not content:
        raise bad_request("message can't be copied")
    chat = writable_chat(state, p)
    if p.get("caption") is not None and "text" not in content:
        content.pop("caption_entities", None)
        content.pop("caption", None)
        content.update(caption(p))
    return {"message_id": deliver(state, p, chat, content)["message_id"]}


@method("forwardMessage")
async def forward_message(state: EmulatorState, p: Params) -> JSON:
    source = _source_message(state, p, "message to forward not found")
    content = {key: source[key] for key in CONTENT_KEYS if key in source}
    if not content:
        raise bad_request("message can't be forwarded")
    chat = writable_chat(state, p)
    origin = {"type": "user", "sender_user": source["from"], "date": source["date"]}
    content["forward_origin"] = source.get("forward_origin", origin)
    return deliver(state, p, chat, content)


# ------------------------------------------------------------------ editing and deleting

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def editable_message(state: EmulatorState, p: Params) -> tuple[Chat, JSON]:
    if p.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = state.chat(p.chat_id())
    message_id = p.integer("message_id", required="message identifier is not specified")
    assert message_id is not None
    message = state.message(chat, message_id, "message to edit not found")
    if message["from"]["id"] != state.bot.id:
        raise bad_request("message can't be edited")
    return chat, message


def apply_edit(state: EmulatorState, message: JSON, changes: JSON) -> JSON:
    """Replace content and keyboard; without reply_markup Telegram drops the old keyboard."""
    current = {key: message.get(key) for key in changes}
    if current == changes:
        raise bad_request(_NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = state.now()
    state.notify()
    return message


@method("editMessageText")
async def edit_message_text(state: EmulatorState, p: Params) -> JSON:
    _, message = editable_message(state, p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    content = message_text(p)
    changes = {
        "text": content["text"],
        "entities": content.get("entities"),
        "reply_markup": inline_markup(p),
    }
    return apply_edit(state, message, changes)


@method("editMessageCaption")
async def edit_message_caption(state: EmulatorState, p: Params) -> JSON:
    _, message = editable_message(state, p)
    if "text" in message:
        raise bad_request("there is no caption in the message to edit")
    content = caption(p)
    changes = {
        "caption": content.get("caption"),
        "caption_entities": content.get("caption_entities"),
        "reply_markup": inline_markup(p),
    }
    return apply_edit(state, message, changes)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: EmulatorState, p: Params) -> JSON:
    _, message = editable_message(state, p)
    return apply_edit(state, message, {"reply_markup": inline_markup(p)})


DELETABLE_SECONDS = 48 * 3600  # "a message can only be deleted if sent less than 48 hours ago"


def _can_delete(state: EmulatorState, chat: Chat, message: JSON) -> bool:
    if message.get("date", 0) < state.now() - DELETABLE_SECONDS:
        return False
    own = message.get("from", {}).get("id") == state.bot.id
    return own or chat.type == "private" or chat.bot_status in ADMIN_STATUSES


@method("deleteMessage")
async def delete_message(state: EmulatorState, p: Params) -> bool:
    chat = state.chat(p.chat_id())
    message_id = p.integer("message_id", required="message identifier is not specified")
    assert message_id is not None
    message = state.message(chat, message_id, "message to delete not found")
    if not _can_delete(state, chat, message):
        raise bad_request("message can't be deleted")
    chat.deleted.add(message_id)
    state.notify()
    return True


@method("deleteMessages")
async def delete_messages(state: EmulatorState, p: Params) -> bool:
    chat = state.chat(p.chat_id())
    for message_id in p.decoded("message_ids", list) or []:
        message = chat.live_message(int(message_id))
        if message is not None and _can_delete(state, chat, message):
            chat.deleted.add(int(message_id))
    state.notify()
    return True


@method("answerCallbackQuery")
async def answer_callback_query(state: EmulatorState, p: Params) -> bool:
    entry = state.callback_queries.get(p.string("callback_query_id") or "")
    if entry is None or entry["answer"] is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.string("text") or ""
    if len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    entry["answer"] = {
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.string("url"),
        "cache_time": p.integer("cache_time") or 0,
    }
    state.notify()
    return True


# ------------------------------------------------------------------ commands, menu, profile

_SCOPE_TYPES = names(
    "default all_private_chats all_group_chats all_chat_administrators chat "
    "chat_administrators chat_member"
)


def command_scope(state: EmulatorState, p: Params) -> tuple[str, str]:
    """Validate scope + language_code and return the storage key."""
    scope = p.decoded("scope") or {"type": "default"}
    if scope.get("type") not in _SCOPE_TYPES:
        raise bad_request("wrong scope type specified")
    if scope["type"].startswith("chat"):
        scope = {**scope, "chat_id": state.chat(scope.get("chat_id", "")).id}
    if scope["type"] == "chat_member" and scope.get("user_id") not in state.users:
        raise bad_request("user not found")
    language = p.string("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return scope_key(scope), language


def _check_command(command: Any) -> JSON:
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": name, "description": description}


@method("setMyCommands")
async def set_my_commands(state: EmulatorState, p: Params) -> bool:
    commands = p.decoded("commands", list)
    if commands is None:
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    checked = [_check_command(command) for command in commands]
    key = command_scope(state, p)
    if checked:
        state.commands[key] = checked
    else:
        state.commands.pop(key, None)
    state.notify()
    return True


@method("getMyCommands")
async def get_my_commands(state: EmulatorState, p: Params) -> list[JSON]:
    return state.commands.get(command_scope(state, p), [])


@method("deleteMyCommands")
async def delete_my_commands(state: EmulatorState, p: Params) -> bool:
    state.commands.pop(command_scope(state, p), None)
    state.notify()
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(state: EmulatorState, p: Params) -> bool:
    chat_id = state.chat(p.chat_id()).id if p.get("chat_id") is not None else None
    button = p.decoded("menu_button") or {"type": "default"}
    if button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button")
    if button["type"] == "web_app" and not (button.get("text") and button.get("web_app")):
        raise bad_request("can't parse menu button")
    state.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(state: EmulatorState, p: Params) -> JSON:
    chat_id = state.chat(p.chat_id()).id if p.get("chat_id") is not None else None
    return state.menu_buttons.get(chat_id) or state.menu_buttons.get(None) or {"type": "default"}


def _profile_text(field: str, limit: int) -> tuple[Handler, Handler]:
    """setMy<Field>/getMy<Field> pairs that store one text per language."""

    async def setter(state: EmulatorState, p: Params) -> bool:
        value = p.string(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field} is too long")
        state.bot_texts[(field, p.string("language_code") or "")] = value
        return True

    async def getter(state: EmulatorState, p: Params) -> JSON:
        language = p.string("language_code") or ""
        default = state.bot.first_name if field == "name" else ""
        stored = state.bot_texts.get((field, language), state.bot_texts.get((field, "")))
        return {field: stored if stored is not None else default}

    return setter, getter


for _field, _name, _limit in (
    ("description", "Description", 512),
    ("short_description", "ShortDescription", 120),
    ("name", "Name", 64),
):
    _setter, _getter = _profile_text(_field, _limit)
    method(f"setMy{_name}")(_setter)
    method(f"getMy{_name}")(_getter)


# ------------------------------------------------------------------ forum topics

FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


def forum_chat(state: EmulatorState, p: Params) -> Chat:
    chat = state.chat(p.chat_id())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def forum_topic(state: EmulatorState, p: Params) -> tuple[Chat, Topic]:
    chat = forum_chat(state, p)
    if chat.bot_status not in ADMIN_STATUSES:
        raise bad_request("CHAT_ADMIN_REQUIRED")
    topic = chat.topics.get(p.integer("message_thread_id") or 0)
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID")
    return chat, topic


def topic_event(state: EmulatorState, chat: Chat, topic: Topic, event: JSON) -> None:
    """Record the service message Telegram posts into a topic when it changes."""
    state.store_message(chat, state.bot_user(), event, thread=topic)


def create_topic(
    state: EmulatorState, chat: Chat, sender: JSON, name: str, icon_color: int | None
) -> tuple[Topic, JSON]:
    """Create a topic; its id is the id of the forum_topic_created service message."""
    color = icon_color or FORUM_ICON_COLORS[0]
    created = {"forum_topic_created": {"name": name, "icon_color": color}}
    service = state.store_message(chat, sender, created)
    service.update(message_thread_id=service["message_id"], is_topic_message=True)
    topic = Topic(thread_id=service["message_id"], name=name, icon_color=color)
    chat.topics[topic.thread_id] = topic
    return topic, service


@method("createForumTopic")
async def create_forum_topic(state: EmulatorState, p: Params) -> JSON:
    chat = forum_chat(state, p)
    if chat.bot_status not in ADMIN_STATUSES:
        raise bad_request("not enough rights to create a topic")
    name = p.string("name") or ""
    if not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
    color = p.integer("icon_color")
    if color is not None and color not in FORUM_ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    topic, _ = create_topic(state, chat, state.bot_user(), name, color)
    topic.icon_custom_emoji_id = p.string("icon_custom_emoji_id")
    return topic.to_api()


@method("editForumTopic")
async def edit_forum_topic(state: EmulatorState, p: Params) -> bool:
    chat, topic = forum_topic(state, p)
    name, emoji = p.string("name"), p.get("icon_custom_emoji_id")
    edited: JSON = {}
    if name is not None and name != topic.name:
        edited["name"] = topic.name = name
    if emoji is not None and emoji != (topic.icon_custom_emoji_id or ""):
        topic.icon_custom_emoji_id = emoji or None
        edited["icon_custom_emoji_id"] = emoji
    if not edited:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic_event(state, chat, topic, {"forum_topic_edited": edited})
    return True


def _set_closed(state: EmulatorState, p: Params, closed: bool) -> bool:
    chat, topic = forum_topic(state, p)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    topic_event(
        state, chat, topic, {"forum_topic_closed" if closed else "forum_topic_reopened": {}}
    )
    return True


@method("closeForumTopic")
async def close_forum_topic(state: EmulatorState, p: Params) -> bool:
    return _set_closed(state, p, closed=True)


@method("reopenForumTopic")
async def reopen_forum_topic(state: EmulatorState, p: Params) -> bool:
    return _set_closed(state, p, closed=False)


@method("deleteForumTopic")
async def delete_forum_topic(state: EmulatorState, p: Params) -> bool:
    chat, topic = forum_topic(state, p)
    del chat.topics[topic.thread_id]
    for message_id, message in chat.messages.items():
        if message.get("message_thread_id") == topic.thread_id:
            chat.deleted.add(message_id)
    state.notify()
    return True


# ------------------------------------------------------------------ chats and members


@method("getChat")
async def get_chat(state: EmulatorState, p: Params) -> JSON:
    """ChatFullInfo, including the fields python-telegram-bot 22 insists on."""
    chat = state.chat(p.chat_id())
    accepts_gifts = chat.type == "private"
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"),
            accepts_gifts,
        )
        | {"gifts_from_channels": False},
    }


@method("getChatMember")
async def get_chat_member(state: EmulatorState, p: Params) -> JSON:
    chat = state.chat(p.chat_id())
    user_id = p.integer("user_id", required="user not found")
    assert user_id is not None
    if chat.type == "private" and user_id not in (chat.id, state.bot.id):
        raise bad_request("user not found")
    return state.chat_member(chat, user_id)


@method("getChatMemberCount")
async def get_chat_member_count(state: EmulatorState, p: Params) -> int:
    chat = state.chat(p.chat_id())
    present = {"creator", "administrator", "member", "restricted"}
    bot = 1 if chat.bot_status in present or chat.type == "private" else 0
    return bot + sum(1 for status in chat.members.values() if status in present)


@method("leaveChat")
async def leave_chat(state: EmulatorState, p: Params) -> bool:
    chat = state.chat(p.chat_id())
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    if chat.bot_status in ("left", "kicked"):
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    change_bot_status(state, chat, "left", state.bot_user())
    return True


def change_bot_status(state: EmulatorState, chat: Chat, status: str, by: JSON) -> JSON:
    """Change the bot's membership and emit the my_chat_member update Telegram sends."""
    old = state.chat_member(chat, state.bot.id)
    chat.bot_status = status
    payload = {
        "chat": chat.to_api(),
        "from": by,
        "date": state.now(),
        "old_chat_member": old,
        "new_chat_member": state.chat_member(chat, state.bot.id),
    }
    return state.push_update("my_chat_member", payload)
