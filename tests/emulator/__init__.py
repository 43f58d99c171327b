"""A local Telegram Bot API emulator for testing the bot end to end without Telegram.

Run it standalone with ``python -m tests.emulator --port PORT``, or in-process with
``create_app(EmulatorState())``; drive it from tests with ``EmulatorClient`` (control API) and
point python-telegram-bot at it with ``base_url(f"{url}/bot")``.

Modules: ``state`` (the emulated world), ``botapi`` (Bot API methods), ``formatting``
(parse_mode and entities), ``control`` (``/_emulator/...`` test API), ``server`` (HTTP, webhook
delivery), ``client`` (sync control client, subprocess runner), ``ptb`` (run an Application
in a background thread).
"""

from .server import create_app, serve
from .state import DEFAULT_TOKEN, ApiError, BotProfile, EmulatorState

__all__ = ["DEFAULT_TOKEN", "ApiError", "BotProfile", "EmulatorState", "create_app", "serve"]
