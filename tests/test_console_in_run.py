"""`migrant-bot run` with CONSOLE_PORT set serves the console beside the bot, on the bot's own
database and content (against the Bot API emulator, as in production)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.config import PROJECT_ROOT
from tests.emulator.client import run_emulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_running_bot_serves_the_console_when_its_port_is_set(tmp_path: Path) -> None:
    port = _free_port()
    address = f"http://127.0.0.1:{port}"
    with run_emulator() as emulator:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "CONSOLE_PORT": str(port),
            "BUTTON_SECRET": "test-secret",
        }
        log = (tmp_path / "bot.log").open("w")
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env,
                               stdout=log, stderr=log)  # fmt: skip
        try:
            emulator.wait_for_poller(timeout=60)
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert httpx.get(address + "/").status_code == 401
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, (tmp_path / "bot.log").read_text()
                    time.sleep(0.2)
            link = subprocess.run(
                [sys.executable, "-m", "bot", "console", "--login-link"], cwd=PROJECT_ROOT,
                env=env, capture_output=True, text=True, check=True, timeout=120,
            ).stdout.strip()  # fmt: skip
            assert link.startswith(address + "/login/")
            with httpx.Client(base_url=address) as browser:
                assert browser.post(link.removeprefix(address)).status_code == 303
                dashboard = browser.get("/")
                assert dashboard.status_code == 200 and dashboard.text.count("<svg") == 6
        finally:
            bot.terminate()
            bot.wait(timeout=30)
            log.close()
