"""Synchronous helpers for tests: ``EmulatorClient`` (control API) and ``run_emulator``.

Tests play the users with the client (``send_text``, ``press_button``...) and observe the bot
with long-polling waits (``wait_for_messages``, ``wait_for_calls``) instead of sleeping.
"""

from __future__ import annotations

import base64
import contextlib
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from .state import DEFAULT_TOKEN

JSON = dict[str, Any]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
_READY = re.compile(r"emulator listening on (http://\S+)")


class EmulatorError(RuntimeError):
    """The control API refused a request (bad test setup), with its explanation."""


class EmulatorClient:
    """Drives the emulator's control API; one instance per test session is enough.

    ``wait_for_messages`` and ``wait_for_calls`` keep a cursor, so each call returns only
    what is new since the previous call; ``reset`` rewinds everything.
    """

    def __init__(self, url: str, token: str = DEFAULT_TOKEN, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=f"{self.url}/_emulator", timeout=timeout)
        self._message_cursor: dict[int, int] = {}
        self._call_cursor: dict[str, int] = {}

    # ------------------------------------------------------------------ plumbing

    @property
    def bot_api_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(self, method: str, path: str, wait: float = 0, **kwargs: Any) -> Any:
        timeout = httpx.Timeout(self._http.timeout.read or 30.0, read=wait + 30.0)
        response = self._http.request(method, path, timeout=timeout, **kwargs)
        if response.status_code >= 400:
            raise EmulatorError(f"{method} {path}: {response.json().get('error', response.text)}")
        return response.json()

    def _post(self, path: str, **body: Any) -> Any:
        return self._request("POST", path, json={k: v for k, v in body.items() if v is not None})

    def bot_api(self, method: str, *, http_timeout: float = 30.0, **params: Any) -> JSON:
        """Call the Bot API as the bot would (raw JSON answer, errors included)."""
        url = f"{self.bot_api_url}{self.token}/{method}"
        response = httpx.post(url, json=params, timeout=http_timeout)
        result: JSON = response.json()
        return result

    # ------------------------------------------------------------------ world setup

    def reset(self) -> None:
        """Forget users, chats, messages, updates, calls and rules; rewind cursors."""
        self._post("/reset")
        self._message_cursor.clear()
        self._call_cursor.clear()

    def state(self) -> JSON:
        return dict(self._request("GET", "/state"))

    def configure(self, **settings: Any) -> JSON:
        """privacy_mode, first_name, username, webhook_retry_delay."""
        return dict(self._post("/config", **settings))

    def user(
        self,
        user_id: int | None = None,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """Create or update a user (and their private chat with the bot)."""
        return dict(
            self._post(
                "/users",
                id=user_id,
                first_name=first_name,
                username=username,
                last_name=last_name,
                language_code=language_code,
            )
        )

    def group(
        self,
        title: str = "Test group",
        members: dict[int, str] | list[int] | None = None,
        *,
        supergroup: bool = True,
        is_forum: bool = False,
        bot_status: str = "member",
        chat_id: int | None = None,
        username: str | None = None,
    ) -> JSON:
        """Create a (super)group the bot is already in; returns the Chat object."""
        info = self._post(
            "/chats",
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
            is_forum=is_forum,
            bot_status=bot_status,
            members={str(k): v for k, v in members.items()}
            if isinstance(members, dict)
            else members or [],
        )
        return dict(info["chat"])

    def chat(self, chat_id: int) -> JSON:
        """Members, bot status, topics, current reply keyboard and counters of a chat."""
        return dict(self._request("GET", f"/chats/{chat_id}"))

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> JSON:
        return dict(self._post(f"/chats/{chat_id}/members", user_id=user_id, status=status))

    def set_bot_status(self, chat_id: int, status: str, by_user_id: int) -> JSON:
        """Add/promote/remove the bot; returns the my_chat_member update."""
        return dict(
            self._post(f"/chats/{chat_id}/bot_status", status=status, by_user_id=by_user_id)
        )

    def add_bot_to_group(self, chat_id: int, by_user_id: int, status: str = "member") -> JSON:
        return self.set_bot_status(chat_id, status, by_user_id)

    def create_topic(self, chat_id: int, user_id: int, name: str) -> JSON:
        """A user creates a forum topic; returns the ForumTopic."""
        return dict(self._post(f"/chats/{chat_id}/topics", user_id=user_id, name=name)["topic"])

    def upload(self, content: bytes, kind: str = "document", **meta: Any) -> JSON:
        """Store a file the bot can download (getFile); returns the File object."""
        encoded = base64.b64encode(content).decode()
        return dict(self._post("/files", kind=kind, content_base64=encoded, **meta))

    def clock(self, advance: int) -> int:
        return int(self._post("/clock", advance=advance)["now"])

    # ------------------------------------------------------------------ the users' side

    def send(self, user_id: int, chat_id: int | None = None, **content: Any) -> JSON:
        """Send any user message; returns the full control answer (message, update, delivered)."""
        return dict(self._post("/messages", user_id=user_id, chat_id=chat_id, **content))

    def send_text(self, user_id: int, text: str, chat_id: int | None = None, **extra: Any) -> JSON:
        """Send text (bot_command/mention/url entities are computed); returns the Message."""
        return dict(self.send(user_id, chat_id, text=text, **extra)["message"])

    def send_command(
        self, user_id: int, command: str, args: str = "", chat_id: int | None = None, **extra: Any
    ) -> JSON:
        """``send_command(uid, "start", "payload")`` sends ``/start payload``."""
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return self.send_text(user_id, text, chat_id, **extra)

    def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> JSON:
        location = {"latitude": latitude, "longitude": longitude}
        return dict(self.send(user_id, chat_id, location=location)["message"])

    def send_voice(
        self,
        user_id: int,
        content: bytes = b"OggS",
        duration: int = 2,
        chat_id: int | None = None,
        mime_type: str = "audio/ogg",
    ) -> JSON:
        """A voice message whose bytes the bot can download through getFile."""
        voice = {
            "content_base64": base64.b64encode(content).decode(),
            "duration": duration,
            "mime_type": mime_type,
        }
        return dict(self.send(user_id, chat_id, voice=voice)["message"])

    def send_photo(
        self, user_id: int, content: bytes = b"\xff\xd8\xff", caption: str | None = None
    ) -> JSON:
        photo = {"content_base64": base64.b64encode(content).decode(), "mime_type": "image/jpeg"}
        return dict(self.send(user_id, photo=photo, caption=caption)["message"])

    def send_sticker(self, user_id: int, file_id: str | None = None, emoji: str = "👍") -> JSON:
        return dict(self.send(user_id, sticker={"file_id": file_id, "emoji": emoji})["message"])

    def send_document(
        self, user_id: int, content: bytes, file_name: str, mime_type: str = "text/plain"
    ) -> JSON:
        document = {
            "content_base64": base64.b64encode(content).decode(),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return dict(self.send(user_id, document=document)["message"])

    def send_contact(self, user_id: int, phone_number: str, first_name: str) -> JSON:
        contact = {"phone_number": phone_number, "first_name": first_name, "user_id": user_id}
        return dict(self.send(user_id, contact=contact)["message"])

    def edit_text(self, chat_id: int, message_id: int, text: str) -> JSON:
        """A user edits their message; the bot receives edited_message."""
        answer = self._post("/messages/edit", chat_id=chat_id, message_id=message_id, text=text)
        return dict(answer["message"])

    def press_button(
        self,
        user_id: int,
        message: JSON | int,
        data: str | None = None,
        *,
        text: str | None = None,
        chat_id: int | None = None,
        forge: bool = False,
    ) -> JSON:
        """Press an inline button of ``message`` (a Message dict or id) by data or by text.

        ``forge=True`` sends ``data`` even if no such button exists, like a malicious client.
        Returns the CallbackQuery.
        """
        if isinstance(message, dict):
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        else:
            message_id = message
        answer = self._post(
            "/callback",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            text=text,
            forge=forge,
        )
        return dict(answer["callback_query"])

    def callback_answer(self, query_id: str, timeout: float = 10) -> JSON | None:
        """Wait for the bot's answerCallbackQuery to a query; None if it never answered."""
        entry = self._request(
            "GET", f"/callback/{query_id}", wait=timeout, params={"timeout": timeout}
        )
        answer: JSON | None = entry["answer"]
        return answer

    def block(self, user_id: int, notify: bool = True) -> None:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        self._post(f"/users/{user_id}/block", notify=notify)

    def unblock(self, user_id: int, notify: bool = True) -> None:
        self._post(f"/users/{user_id}/unblock", notify=notify)

    def flood(self, method: str, times: int = 1, retry_after: int = 5) -> None:
        """The next ``times`` calls to ``method`` (``*`` = any) fail with 429 retry_after."""
        self._post("/flood", method=method, times=times, retry_after=retry_after)

    def fault(
        self,
        method: str,
        times: int = 1,
        status: int = 500,
        delivered: bool = False,
        after: int = 0,
    ) -> None:
        """After ``after`` calls, the next ``times`` calls to ``method`` fail with ``status``;
        ``delivered``: after taking effect (the answer is lost, as on a timeout)."""
        self._post(
            "/fault", method=method, times=times, status=status, delivered=delivered, after=after
        )

    def inject_update(self, update: JSON) -> JSON:
        """Queue an arbitrary update (update_id is assigned)."""
        return dict(self._post("/updates", update=update))

    # ------------------------------------------------------------------ observing the bot

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 10) -> list[JSON]:
        """The next ``count`` messages the bot sends to ``chat_id`` (waits up to ``timeout``).

        Raises ``TimeoutError`` listing what did arrive, which usually explains the failure.
        """
        after = self._message_cursor.get(chat_id, 0)
        params = {"after": after, "count": count, "timeout": timeout}
        answer = self._request("GET", f"/chats/{chat_id}/sent", wait=timeout, params=params)
        messages: list[JSON] = answer["messages"]
        if answer["timed_out"]:
            texts = [m.get("text") or m.get("caption") or sorted(m) for m in messages]
            errors = [c for c in self.calls() if not c.get("ok")][-5:]
            raise TimeoutError(
                f"bot sent {len(messages)}/{count} new messages to {chat_id} in {timeout}s: "
                f"{texts}; recent failed calls: {errors}"
            )
        self._message_cursor[chat_id] = after + len(messages)
        return messages

    def messages(self, chat_id: int, sender: str = "all") -> list[JSON]:
        """Current chat history; ``sender`` is ``all``, ``bot`` or ``user``."""
        answer = self._request("GET", f"/chats/{chat_id}/messages", params={"sender": sender})
        return list(answer["messages"])

    def message(self, chat_id: int, message_id: int) -> JSON:
        """The current version of one message (after edits)."""
        return dict(self._request("GET", f"/chats/{chat_id}/messages/{message_id}")["message"])

    def calls(self, method: str | None = None) -> list[JSON]:
        """Every finished Bot API call (``method``, ``params``, ``ok``, ``result``/error)."""
        params = {"method": method} if method else {}
        return list(self._request("GET", "/calls", params=params)["calls"])

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10) -> list[JSON]:
        """The next ``count`` finished calls of ``method`` (cursor kept per method)."""
        key = method.lower()
        params = {
            "method": method,
            "after": self._call_cursor.get(key, 0),
            "count": count,
            "timeout": timeout,
        }
        answer = self._request("GET", "/calls", wait=timeout, params=params)
        if answer["timed_out"]:
            raise TimeoutError(f"{len(answer['calls'])}/{count} {method} calls in {timeout}s")
        calls: list[JSON] = answer["calls"]
        self._call_cursor[key] = calls[-1]["seq"]
        return calls

    def updates(self) -> JSON:
        """Pending (unconfirmed) updates and the log of every update created."""
        return dict(self._request("GET", "/updates"))

    def commands(self) -> list[JSON]:
        return list(self._request("GET", "/commands")["commands"])

    def webhook(self) -> JSON:
        """Webhook settings and the delivery log (status of each POST)."""
        return dict(self._request("GET", "/webhook"))

    def wait_for_poller(self, count: int = 1, timeout: float = 10) -> None:
        """Block until ``count`` getUpdates long polls are parked on the emulator."""
        params = {"min": count, "timeout": timeout}
        if self._request("GET", "/polls", wait=timeout, params=params)["timed_out"]:
            raise TimeoutError(f"no getUpdates long poll parked within {timeout}s")


# ------------------------------------------------------------------ subprocess


@contextlib.contextmanager
def run_emulator(
    port: int = 0,
    host: str = "127.0.0.1",
    token: str = DEFAULT_TOKEN,
    extra_args: tuple[str, ...] = (),
    startup_timeout: float = 15.0,
) -> Iterator[EmulatorClient]:
    """Start ``python -m tests.emulator`` on a free port, yield a client, then stop it."""
    log = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "tests.emulator", "--port", str(port), "--host", host]
    process = subprocess.Popen(
        [*command, "--token", token, *extra_args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = _wait_until_ready(process, startup_timeout, Path(log.name))
        with EmulatorClient(url, token) as client:
            yield client
    finally:
        _stop(process)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def _wait_until_ready(process: subprocess.Popen[str], timeout: float, log: Path) -> str:
    """Read stdout (in a thread, to honour the timeout) until the ready line appears."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=timeout)
            match = _READY.search(line)
            if match:
                return match.group(1)
            if not line:
                raise RuntimeError(f"emulator exited early:\n{log.read_text()[-2000:]}")
    except queue.Empty:
        raise RuntimeError(
            f"emulator not ready in {timeout}s:\n{log.read_text()[-2000:]}"
        ) from None


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=3)
    if process.stdout is not None:
        process.stdout.close()
