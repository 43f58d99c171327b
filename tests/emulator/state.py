"""The emulated Telegram world: bot, users, chats, messages, updates and a log of calls.

Everything lives in one ``EmulatorState`` so that a test can inspect or reset it in one place,
whether the emulator runs in-process or behind HTTP in its own process.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456789:AAEmulatorTokenForTestsOnly-0123456789abc"
DEFAULT_BOT_NAME = "Emulator Bot"
DEFAULT_BOT_USERNAME = "emulator_test_bot"

#: Telegram's default when allowed_updates was never set (or set to an empty list).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
PRESENT_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})
#: The sender Telegram shows for an administrator who posts anonymously, as the group.
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


def names(text: str) -> frozenset[str]:
    """Identifiers written as one space-separated string, to keep constant tables compact."""
    return frozenset(text.split())


class ApiError(Exception):
    """A Bot API failure, rendered exactly like Telegram's error responses."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class Fault:
    """After letting ``after`` calls through, the next ``times`` calls of a method fail with
    a server error; with ``delivered`` the call takes effect first and only its answer is
    lost (as when a response times out)."""

    times: int
    status: int = 500
    delivered: bool = False
    after: int = 0

    def error(self) -> ApiError:
        return ApiError(self.status, "Internal Server Error")


def bad_request(detail: str) -> ApiError:
    """Shorthand for the most common error, a 400 "Bad Request: ..."."""
    return ApiError(400, f"Bad Request: {detail}")


class ControlError(Exception):
    """A misuse of the control API by a test (not something Telegram would answer)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Notifier:
    """Wakes waiters whenever the state changes.

    Long polls, wait-for-messages and webhook delivery all wait on it. It keeps one future per
    waiter bound to the waiter's own loop, so it also works when requests are served from
    different event loops (e.g. several starlette TestClients).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self.closed = False

    def close(self) -> None:
        """Release every waiter now and from now on (server shutdown must not hang on polls)."""
        self.closed = True
        self.notify()

    def notify(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, set()
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds; False on timeout. Never misses a notification."""
        deadline = time.monotonic() + max(0.0, timeout)
        loop = asyncio.get_running_loop()
        while True:
            waiter = (loop, loop.create_future())
            with self._lock:
                self._waiters.add(waiter)
            try:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return False
                await asyncio.wait({waiter[1]}, timeout=remaining)
            finally:
                with self._lock:
                    self._waiters.discard(waiter)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class Topic:
    """A forum topic; its id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_api(self) -> JSON:
        topic: JSON = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class Chat:
    """A chat with its history; message ids increase per chat as in Telegram groups."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    sent: list[int] = field(default_factory=list)
    topics: dict[int, Topic] = field(default_factory=dict)
    reply_keyboard: JSON | None = None

    def to_api(self) -> JSON:
        """The Chat object embedded in messages and updates."""
        chat: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value:
                chat[key] = value
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def live_message(self, message_id: int) -> JSON | None:
        """The message unless it never existed or was deleted."""
        if message_id in self.deleted:
            return None
        return self.messages.get(message_id)


@dataclass
class StoredFile:
    """A file the emulator knows about; ``content`` is served by the file download route."""

    file_id: str
    file_unique_id: str
    kind: str
    file_path: str
    content: bytes | None = None
    mime_type: str | None = None
    file_name: str | None = None
    source: str = "file_id"

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else 1024

    def to_api(self) -> JSON:
        """The File object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass
class Webhook:
    """setWebhook settings plus delivery diagnostics (getWebhookInfo)."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: list[JSON] = field(default_factory=list)


@dataclass
class BotProfile:
    """Who the bot is; survives ``reset`` because it mirrors the process configuration."""

    token: str = DEFAULT_TOKEN
    first_name: str = DEFAULT_BOT_NAME
    username: str = DEFAULT_BOT_USERNAME
    privacy_mode: bool = True
    can_join_groups: bool = True
    supports_inline_queries: bool = False

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])


class EmulatorState:
    """All mutable emulator state plus the primitives the Bot API and control API share."""

    def __init__(self, bot: BotProfile | None = None) -> None:
        self.bot = bot or BotProfile()
        self.notifier = Notifier()
        self.webhook_retry_delay = 0.1
        self._next_update_id = 100_000_001
        self._next_call_seq = 1
        self._next_group_id = 1
        self._next_user_id = 1_000_001
        self._next_file = 1
        self._next_callback = 1
        self.poll_generation = 0
        self.waiting_polls = 0
        self.reset()

    def reset(self) -> None:
        """Forget the world but keep id counters monotonic.

        Monotonic update ids matter: a getUpdates(offset=N) left over from a previous test would
        otherwise silently drop the next test's first updates.
        """
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.updates: list[JSON] = []
        self.update_log: list[JSON] = []
        self.allowed_updates: list[str] | None = None
        self.calls: list[JSON] = []
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, JSON] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.webhook = Webhook()
        self.blocked: set[int] = set()
        self.floods: dict[str, list[int]] = {}
        self.faults: dict[str, Fault] = {}
        self.clock_offset = 0
        self.notify()

    def notify(self) -> None:
        self.notifier.notify()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        return await self.notifier.wait_until(predicate, timeout)

    def now(self) -> int:
        """UNIX time in whole seconds, as Telegram sends it; tests may shift it."""
        return int(time.time()) + self.clock_offset

    # ------------------------------------------------------------------ identity

    def bot_user(self) -> JSON:
        """The bot as it appears in ``from`` fields."""
        return {
            "id": self.bot.id,
            "is_bot": True,
            "first_name": self.bot.first_name,
            "username": self.bot.username,
        }

    def get_me(self) -> JSON:
        return {
            **self.bot_user(),
            "can_join_groups": self.bot.can_join_groups,
            "can_read_all_group_messages": not self.bot.privacy_mode,
            "supports_inline_queries": self.bot.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ------------------------------------------------------------------ users and chats

    def upsert_user(self, data: JSON) -> JSON:
        """Create or update a user and their private chat with the bot."""
        user_id = int(data.get("id") or self._allocate_user_id())
        user = self.users.get(user_id, {"id": user_id, "is_bot": False})
        for key in ("first_name", "last_name", "username", "language_code", "is_premium"):
            if data.get(key) is not None:
                user[key] = data[key]
        user.setdefault("first_name", f"User{user_id}")
        self.users[user_id] = user
        chat = self.chats.get(user_id) or Chat(id=user_id, type="private")
        chat.first_name, chat.last_name = user["first_name"], user.get("last_name")
        chat.username = user.get("username")
        chat.members = {user_id: "member"}
        self.chats[user_id] = chat
        self.notify()
        return user

    def _allocate_user_id(self) -> int:
        while self._next_user_id in self.users:
            self._next_user_id += 1
        return self._next_user_id

    def user(self, user_id: int) -> JSON:
        user = self.users.get(int(user_id))
        if user is None:
            raise ControlError(f"unknown user {user_id}; create it first", 404)
        return user

    def create_chat(self, data: JSON) -> Chat:
        """Create a group or supergroup with members; no update is sent (it already existed)."""
        chat_type = data.get("type", "supergroup")
        if chat_type not in ("group", "supergroup"):
            raise ControlError("type must be 'group' or 'supergroup'")
        chat = Chat(
            id=int(data.get("id") or self._allocate_chat_id(chat_type)),
            type=chat_type,
            title=data.get("title") or f"Test {chat_type}",
            username=data.get("username"),
            is_forum=bool(data.get("is_forum")) and chat_type == "supergroup",
            bot_status=self._checked_status(data.get("bot_status", "member")),
        )
        if chat.is_forum:
            chat.next_message_id = 2  # thread id 1 is the General topic
        for user_id, status in _member_pairs(data.get("members", [])):
            self.user(user_id)
            chat.members[user_id] = self._checked_status(status)
        self.chats[chat.id] = chat
        self.notify()
        return chat

    @staticmethod
    def _checked_status(status: str) -> str:
        if status not in MEMBER_STATUSES:
            raise ControlError(f"unknown member status {status!r}; use one of {MEMBER_STATUSES}")
        return status

    def _allocate_chat_id(self, chat_type: str) -> int:
        number = self._next_group_id
        self._next_group_id += 1
        if chat_type == "group":
            return -(4_000_000_000 + number)
        return -(1_000_000_000_000 + 1_000_000_000 + number)

    def chat(self, chat_id: int | str) -> Chat:
        """Look up a chat by id or ``@username`` the way the Bot API does."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == chat_id[1:].lower():
                    return chat
            raise bad_request("chat not found")
        try:
            found = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise bad_request("chat not found")
        return found

    def set_member(self, chat: Chat, user_id: int, status: str) -> None:
        self.user(user_id)
        chat.members[user_id] = self._checked_status(status)
        self.notify()

    def chat_member(self, chat: Chat, user_id: int) -> JSON:
        """The ChatMember object for a user (or the bot) in a chat."""
        if user_id == self.bot.id:
            return chat_member_object(self.bot_user(), chat.bot_status)
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        return chat_member_object(user, chat.members.get(user_id, "left"))

    # ------------------------------------------------------------------ messages

    def store_message(
        self,
        chat: Chat,
        sender: JSON,
        content: JSON,
        *,
        thread: Topic | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """Append a message to a chat; messages in a topic implicitly reply to its creation."""
        message: JSON = {
            "message_id": chat.new_message_id(),
            "from": sender,
            "chat": chat.to_api(),
            "date": self.now(),
        }
        if thread is not None:
            message["message_thread_id"] = thread.thread_id
            message["is_topic_message"] = True
            reply_to = reply_to or chat.messages.get(thread.thread_id)
        if reply_to is not None:
            message["reply_to_message"] = as_reply(reply_to)
        message.update(content)
        chat.messages[message["message_id"]] = message
        self.notify()
        return message

    def record_sent(self, chat: Chat, message: JSON) -> None:
        """Remember that the bot sent ``message`` so tests can wait for it."""
        chat.sent.append(message["message_id"])
        self.notify()

    def message(self, chat: Chat, message_id: int, missing: str) -> JSON:
        found = chat.live_message(message_id)
        if found is None:
            raise bad_request(missing)
        return found

    # ------------------------------------------------------------------ updates

    def push_update(self, kind: str, payload: JSON) -> JSON:
        """Queue an update for getUpdates or the webhook."""
        update = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        self.updates.append(update)
        self.update_log.append(update)
        self.notify()
        return update

    def confirm_updates(self, offset: int) -> None:
        """Apply a getUpdates offset: positive confirms older updates, negative keeps the tail."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def deliverable_updates(self, allowed: list[str] | None) -> list[JSON]:
        """Pending updates of allowed types; others are dropped as Telegram never sends them."""
        self.updates = [u for u in self.updates if update_type(u) in allowed_set(allowed)]
        return self.updates

    # ------------------------------------------------------------------ calls, floods, files

    def record_call(self, method: str, params: JSON) -> JSON:
        entry: JSON = {"seq": self._next_call_seq, "method": method, "params": params}
        entry["time"] = time.time()
        self._next_call_seq += 1
        self.calls.append(entry)
        return entry

    def take_flood(self, method: str) -> ApiError | None:
        """Consume one pending 429 for this method (or for every method, key ``*``)."""
        for key in (method.lower(), "*"):
            rule = self.floods.get(key)
            if rule and rule[0] > 0:
                rule[0] -= 1
                retry_after = rule[1]
                return ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        return None

    def take_fault(self, method: str) -> Fault | None:
        """Consume one pending server error for this method (or ``*``)."""
        for key in (method.lower(), "*"):
            fault = self.faults.get(key)
            if fault and fault.after > 0:
                fault.after -= 1
            elif fault and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def register_file(
        self,
        kind: str,
        *,
        file_id: str | None = None,
        content: bytes | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        source: str = "file_id",
    ) -> StoredFile:
        """Remember a file (an upload, a URL or a bare file_id) and give it a file_id."""
        if file_id and file_id in self.files:
            return self.files[file_id]
        number = self._next_file
        self._next_file += 1
        stored = StoredFile(
            file_id=file_id or f"emu-{kind}-{number:06d}",
            file_unique_id=f"emuq{number:06d}",
            kind=kind,
            file_path=f"{kind}s/file_{number}{_EXTENSIONS.get(kind, '')}",
            content=content,
            mime_type=mime_type,
            file_name=file_name,
            source=source,
        )
        self.files[stored.file_id] = stored
        return stored

    def callback_id(self) -> str:
        """A callback query id; Telegram's are opaque numeric strings."""
        number = self._next_callback
        self._next_callback += 1
        return str(4_382_000_000_000_000_000 + number)


_EXTENSIONS = {"voice": ".oga", "photo": ".jpg", "sticker": ".webp", "document": ""}


def _member_pairs(members: Any) -> list[tuple[int, str]]:
    """Accept ``{user_id: status}``, ``[user_id, ...]`` or ``[{"user_id", "status"}]``."""
    if isinstance(members, dict):
        return [(int(k), str(v)) for k, v in members.items()]
    pairs: list[tuple[int, str]] = []
    for item in members:
        if isinstance(item, dict):
            pairs.append((int(item["user_id"]), str(item.get("status", "member"))))
        else:
            pairs.append((int(item), "member"))
    return pairs


def update_type(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def allowed_set(allowed: list[str] | None) -> set[str]:
    """Resolve allowed_updates; ``None`` or ``[]`` means Telegram's default set."""
    if allowed:
        return set(allowed)
    return set(_ALL_UPDATE_TYPES) - DEFAULT_EXCLUDED_UPDATES


_ALL_UPDATE_TYPES = names(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages message_reaction "
    "message_reaction_count inline_query chosen_inline_result callback_query shipping_query "
    "pre_checkout_query purchased_paid_media poll poll_answer my_chat_member chat_member "
    "chat_join_request chat_boost removed_chat_boost"
)


def as_reply(message: JSON) -> JSON:
    """A message as embedded in ``reply_to_message``: Telegram never nests replies deeper."""
    reply = copy.deepcopy(message)
    reply.pop("reply_to_message", None)
    return reply


_ADMIN_RIGHTS = names(
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members "
    "can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories "
    "can_pin_messages can_manage_topics"
)
_RESTRICTED_FLAGS = names(
    "can_change_info can_invite_users can_pin_messages can_send_messages can_send_polls "
    "can_send_other_messages can_add_web_page_previews can_manage_topics can_send_audios "
    "can_send_documents can_send_photos can_send_videos can_send_video_notes "
    "can_send_voice_notes can_edit_tag"
)


def chat_member_object(user: JSON, status: str) -> JSON:
    """A ChatMember* object with every field python-telegram-bot requires for that status."""
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(can_be_edited=False, is_anonymous=False, can_promote_members=False)
        member.update(dict.fromkeys(_ADMIN_RIGHTS, True))
    elif status == "restricted":
        member.update(is_member=True, until_date=0, **dict.fromkeys(_RESTRICTED_FLAGS, False))
    elif status == "kicked":
        member["until_date"] = 0
    return member


def scope_key(scope: JSON | None) -> str:
    """Canonical form of a BotCommandScope, used as a storage key."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))
