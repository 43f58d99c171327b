"""The bot's Application in the test process: against the emulator's HTTP (`application_for`,
`polling`), or with the emulator in the same thread and no HTTP at all (`LocalTelegram`)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

from pydantic import SecretStr
from sqlalchemy import Engine as Database
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.app import Parts, build_conversation
from bot.config import Settings
from bot.conversation import Conversation
from bot.i18n import UiText
from bot.transport.app import build_application
from bot.transport.delivery import handle_once
from bot.transport.metrics import Metrics
from bot.transport.polling import Poller
from bot.transport.staff import StaffDesk
from tests.emulator import botapi, control
from tests.emulator.client import JSON, EmulatorClient, EmulatorError
from tests.emulator.server import answer_call
from tests.emulator.state import ApiError, ControlError, EmulatorState

T = TypeVar("T")


def application_for(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings
) -> Application:
    """An Application without updater or staff group, pointed at the emulator."""
    local = settings.model_copy(update={
        "telegram_bot_token": SecretStr(emulator.token),
        "telegram_api_base_url": emulator.bot_api_url,
        "staff_chat_id": None,
    })  # fmt: skip
    return build_application(
        local, conversation, UiText(local.locales_dir), Metrics(), updater=False
    )


@contextlib.contextmanager
def polling(application: Application, conversation: Conversation) -> Iterator[None]:
    """Runs the bot's own long polling in a background event loop for the `with` block."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with application:
            poller = asyncio.create_task(Poller(application, conversation, Metrics()).run(stop))
            await stop.wait()  # the poller stops by itself, letting what it handles finish
            await asyncio.wait({poller}, timeout=15)
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
        loop.close()


class EmulatorRequest(BaseRequest):
    """The bot's Bot API calls answered by an emulator's state in the same event loop, as
    python-telegram-bot's own tests swap the network for a request object: no HTTP, and
    every call recorded in the state's call log (`calls()`), its exact parameters included."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **_: object
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            path = url.split("/file/bot", 1)[1].split("/", 1)[1]
            stored = [f for f in self._state.files.values() if f.file_path == path]
            return (200, stored[0].content or b"") if stored else (404, b"")
        name = url.rsplit("/", 1)[-1]
        if botapi.resolve(name) is None:
            return 404, json.dumps(
                {"ok": False, "error_code": 404, "description": "Not Found"}
            ).encode()
        raw: dict[str, object] = dict(request_data.json_parameters) if request_data else {}
        uploads = {
            part: botapi.Upload(file[0] or part, file[2] if len(file) > 2 else "", _bytes(file[1]))
            for part, file in (request_data.multipart_data if request_data else {}).items()
        }
        raw.update(uploads)
        status, body = await answer_call(self._state, name, botapi.normalize_params(raw), uploads)
        return status, json.dumps(body).encode()


def _bytes(content: object) -> bytes:
    return content if isinstance(content, bytes) else bytes(content.read())  # type: ignore[attr-defined]


_ROUTES = [
    (http_method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), handler)
    for http_method, path, handler in control.ROUTES
]


class LocalTelegram(EmulatorClient):
    """The emulator and the bot in the test's own thread: the tests play users with the
    `EmulatorClient` methods, and each user action (a message, a press, an edit, a member
    change) is delivered at once through the bot's delivery path (`handle_once`, as from the
    webhook) as a real `Update`. When the action returns, the bot has made every Bot API call
    it will make about it, so what did not happen is asserted on what was recorded, at once:
    every wait (`wait_for_messages`, `callback_answer`...) is given no time at all, and
    raises when what it waits for did not come."""

    def __init__(self, settings: Settings, parts: Parts, database: Database) -> None:
        """`settings` say the rest (a staff group, working hours); a staff group is created
        by the test in `state` with the id it gave."""
        self.emulated = EmulatorState()
        super().__init__("http://emulator.invalid", self.emulated.bot.token)
        self._http.close()
        self._loop = asyncio.new_event_loop()
        self.settings = settings.model_copy(update={
            "telegram_bot_token": SecretStr(self.token),
            "telegram_api_base_url": self.bot_api_url,
        })  # fmt: skip
        self._parts, self._database = parts, database
        self.down = False  # while True, updates wait as they do for a stopped bot
        self.application = self._start()

    def _start(self) -> Application:
        self.conversation = build_conversation(self.settings, self._parts, self._database)
        application = build_application(
            self.settings, self.conversation, UiText(self.settings.locales_dir), Metrics(),
            updater=False, request=EmulatorRequest(self.emulated),
        )  # fmt: skip
        self._loop.run_until_complete(application.initialize())
        return application

    def restart(self) -> None:
        """A new bot process on the same database: a fresh Application and conversation."""
        self._loop.run_until_complete(self.application.shutdown())
        self.application = self._start()

    def close(self) -> None:
        self._loop.run_until_complete(self.application.shutdown())
        self._loop.close()

    # ------------------------------------------------------------------ plumbing

    def _request(self, method: str, path: str, wait: float = 0, **kwargs: Any) -> Any:
        return self._loop.run_until_complete(self._control(method, path, **kwargs))

    async def _control(
        self, method: str, path: str, params: JSON | None = None, json: JSON | None = None
    ) -> Any:
        for http_method, pattern, handler in _ROUTES:
            match = pattern.match(path)
            if http_method == method and match:
                args: JSON = {key: str(value) for key, value in (params or {}).items()}
                if "timeout" in args:  # the bot is done already: waiting changes nothing
                    args["timeout"] = "0"
                args.update(json or {})
                args.update(match.groupdict())
                try:
                    result = await handler(self.emulated, args)
                except (ControlError, ApiError) as error:
                    raise EmulatorError(f"{method} {path}: {error}") from error
                if method == "POST":
                    await self._deliver()
                return copy.deepcopy(result)
        raise EmulatorError(f"no control route {method} {path}")

    def bot_api(self, method: str, *, http_timeout: float = 30.0, **params: Any) -> JSON:
        """Call the Bot API as the bot would (the answer, errors included)."""
        call = answer_call(self.emulated, method, botapi.normalize_params(params), {})
        return self._loop.run_until_complete(call)[1]

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine (e.g. with `application.bot`) in the bot's event loop."""
        return self._loop.run_until_complete(coroutine)

    # ------------------------------------------------------------------ the bot's side

    async def _deliver(self) -> None:
        """Every pending update, in order, through the delivery path; an update that must
        come again (the bot said so) is tried again, as Telegram would, a few times."""
        if self.down:
            return
        attempts = 0
        while pending := self.emulated.deliverable_updates(Update.ALL_TYPES):
            payload = copy.deepcopy(pending[0])
            update = Update.de_json(payload, self.application.bot)
            metrics = Metrics()
            if await handle_once(self.application, self.conversation, metrics, update):
                self.emulated.confirm_updates(payload["update_id"] + 1)
                attempts = 0
                continue
            attempts += 1
            if attempts >= 3:
                raise AssertionError(f"update {payload['update_id']} was never handled")

    def deliver(self) -> None:
        """Delivers what waited (after `down`: the bot is back)."""
        self.down = False
        self._loop.run_until_complete(self._deliver())

    def catch_up(self) -> None:
        """One round of the staff group's catch-up job (what waited for the group)."""
        staff: StaffDesk = self.application.bot_data["staff"]
        self._loop.run_until_complete(staff.catch_up(self.application.bot))
