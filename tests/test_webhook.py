"""Webhook mode: two worker processes on PostgreSQL behave as one bot; secrets, duplicates,
health, metrics, and a database that goes away."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.cli import run
from bot.cli.main import main
from bot.config import PROJECT_ROOT, Settings
from bot.content.loader import load_catalog
from bot.conversation import Conversation
from bot.transport.delivery import handle_once
from bot.transport.metrics import Metrics
from bot.transport.webhook import SECRET_HEADER
from tests.conftest import POSTGRES_URL, _fresh_postgres
from tests.dialog import shown_answer
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import application_for

CATALOG = load_catalog(Settings(_env_file=None).content_dir)
SECRET = "a-webhook-secret_42"
OPERATOR, PERSON = 7_000_001, 7_000_002


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


@pytest.fixture(scope="module")
def staff(emulator: EmulatorClient) -> int:
    emulator.user(OPERATOR, "Ana", language_code="es")
    group = emulator.group("Ops", members=[OPERATOR], is_forum=True, bot_status="administrator")
    return int(group["id"])


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the content that the workers serve and a test edits."""
    folder = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(PROJECT_ROOT / "content", folder)
    return folder


@pytest.fixture(scope="module")
def workers(
    emulator: EmulatorClient,
    staff: int,
    content: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """`migrant-bot run --webhook --workers 2` on PostgreSQL, registered with the emulator."""
    _fresh_postgres().dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
        "DATABASE_URL": POSTGRES_URL,
        "STAFF_CHAT_ID": str(staff),
        "STAFF_CATCH_UP_SECONDS": "1",
        "HANDOFF_HOURS": "mon-sun 00:00-23:59",
        "WEBHOOK_URL": f"{url}/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
        "CONTENT_DIR": str(content),
        "CONTENT_CHECK_SECONDS": "1",
    }
    log = tmp_path_factory.mktemp("webhook") / "bot.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook", "--workers", "2"],
            cwd=PROJECT_ROOT, env=env, stderr=stream, stdout=stream,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(f"{url}/healthz", timeout=1).status_code == 200
                    and (emulator.webhook()["url"])
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"webhook workers did not start:\n{log.read_text()[-3000:]}")
        emulator.user(PERSON, "Rose", language_code="fr")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_two_workers_serve_a_conversation_with_a_handoff_consistently(
    emulator: EmulatorClient, workers: str, staff: int
) -> None:
    emulator.send_command(PERSON, "start")
    emulator.wait_for_messages(PERSON, count=2)
    emulator.send_text(PERSON, "c est quoi cbp one")
    [answer] = emulator.wait_for_messages(PERSON)
    assert answer["text"] == shown_answer("cbp_one_about", "fr")
    emulator.send_command(PERSON, "human")
    emulator.wait_for_messages(PERSON, count=2)
    [header] = emulator.wait_for_messages(staff, timeout=15)
    thread = header["message_thread_id"]
    for n in range(4):  # spread over both workers: every one must be relayed, in order
        emulator.send_text(PERSON, f"message {n}")
    relayed = emulator.wait_for_messages(staff, count=4, timeout=15)
    assert [m["text"] for m in relayed] == [f"message {n}" for n in range(4)]
    emulator.send_text(OPERATOR, "Bonjour, je suis là.", chat_id=staff, message_thread_id=thread)
    [copy] = emulator.wait_for_messages(PERSON)
    assert copy["text"] == "Bonjour, je suis là."
    emulator.send_text(OPERATOR, "/close", chat_id=staff, message_thread_id=thread)
    rating, _menu = emulator.wait_for_messages(PERSON, count=2)
    assert [b["text"] for row in rating["reply_markup"]["inline_keyboard"] for b in row] == [
        "👍",
        "👎",
    ]


def test_a_post_without_the_secret_is_refused(workers: str) -> None:
    response = httpx.post(f"{workers}/telegram", json={"update_id": 1}, timeout=5)
    assert response.status_code == 403


MALFORMED: dict[str, tuple[bytes | list[bytes], int]] = {
    "null": (b"null", 400),
    "a list": (b"[]", 400),
    "an empty object": (b"{}", 400),
    "a number": (b"42", 400),
    "a string": (b'"hello"', 400),
    "not JSON": (b"{not json", 400),
    "not UTF-8": (b"\xff\xfe{}", 400),
    "a text update_id": (b'{"update_id": "abc"}', 400),
    "a boolean update_id": (b'{"update_id": true}', 400),
    "a message that is a number": (b'{"update_id": 1, "message": 42}', 400),
    "10 MB": (b'{"update_id": 1, "pad": "' + b"x" * 10_000_000 + b'"}', 413),
    "10 MB in chunks, no length": ([b'{"update_id": 1, "pad": "'] + [b"x" * 100_000] * 100, 413),
}


def test_malformed_bodies_get_a_4xx_and_the_connection_stays_open(
    emulator: EmulatorClient, workers: str
) -> None:
    """Whatever is POSTed with the secret, the answer is a 4xx, never a 500 or a dropped
    connection: every request here goes over one kept-alive connection."""
    host, port = workers.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    connection.connect()
    sock = connection.sock
    for name, (body, status) in MALFORMED.items():
        if isinstance(body, list):  # sent as it comes: the size is only known by reading
            connection.request("POST", "/telegram", iter(body), headers, encode_chunked=True)
        else:
            connection.request("POST", "/telegram", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert (name, response.status) == (name, status)
        assert not response.will_close and connection.sock is sock, name
    person = PERSON + 20
    emulator.user(person, "Lu", language_code="es")
    update = {
        "update_id": 777_000, "message": {
            "message_id": 1, "date": int(time.time()), "text": "hola",
            "chat": {"id": person, "type": "private", "first_name": "Lu"},
            "from": {"id": person, "is_bot": False, "first_name": "Lu"},
        },
    }  # fmt: skip
    connection.request("POST", "/telegram", body=json.dumps(update), headers=headers)
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"ok": True}
    assert connection.sock is sock
    connection.close()
    assert emulator.wait_for_messages(person)


def test_an_update_delivered_twice_is_answered_once(
    emulator: EmulatorClient, workers: str
) -> None:
    update = {
        "update_id": 987654321,
        "message": {
            "message_id": 5555, "date": int(time.time()), "text": "hola",
            "chat": {"id": PERSON, "type": "private", "first_name": "Rose"},
            "from": {"id": PERSON, "is_bot": False, "first_name": "Rose", "language_code": "fr"},
        },
    }  # fmt: skip
    for _ in range(2):  # a 200 comes once the update was handled and answered
        response = httpx.post(
            f"{workers}/telegram", json=update, headers={SECRET_HEADER: SECRET}, timeout=10
        )
        assert response.status_code == 200
    emulator.wait_for_messages(PERSON, timeout=0)
    with pytest.raises(TimeoutError):
        emulator.wait_for_messages(PERSON, timeout=0)


def test_health_and_metrics(workers: str) -> None:
    health = httpx.get(f"{workers}/healthz", timeout=5).json()
    assert health["ok"] and health["database"] == "reachable" and len(health["content"]) == 12
    metrics = httpx.get(f"{workers}/metrics", timeout=5).text
    assert "migrant_bot_updates_total" in metrics
    assert "migrant_bot_handling_seconds_bucket" in metrics
    assert "migrant_bot_open_handoffs" in metrics


def test_when_the_database_fails_the_webhook_answers_503_and_the_retry_is_answered(
    emulator: EmulatorClient, conversation: Conversation, settings: Settings
) -> None:
    """Telegram retries an update that got a 5xx: nothing is lost and nothing is doubled."""
    emulator.user(PERSON + 1, "Jo", language_code="es")
    application = application_for(emulator, conversation, settings)
    handle = conversation.handle
    down = OperationalError("SELECT 1", {}, Exception("connection refused"))

    def failing(incoming):  # type: ignore[no-untyped-def]
        raise down

    payload = {
        "update_id": 123123, "message": {
            "message_id": 1, "date": int(time.time()), "text": "hola",
            "chat": {"id": PERSON + 1, "type": "private", "first_name": "Jo"},
            "from": {"id": PERSON + 1, "is_bot": False, "first_name": "Jo"},
        },
    }  # fmt: skip

    async def scenario() -> tuple[int, int]:
        await application.initialize()
        try:
            update = Update.de_json(payload, application.bot)
            conversation.handle = failing  # type: ignore[method-assign]
            first = await handle_once(application, conversation, Metrics(), update)
            conversation.handle = handle  # type: ignore[method-assign]
            second = await handle_once(application, conversation, Metrics(), update)
            return first, second
        finally:
            await application.shutdown()

    assert asyncio.run(scenario()) == (False, True)  # the webhook answers 503, then 200
    [reply] = emulator.wait_for_messages(PERSON + 1)
    assert reply["text"]


def test_every_worker_serves_edited_content_within_seconds(
    emulator: EmulatorClient, workers: str, content: Path
) -> None:
    status = content / "intents" / "cbp_one.yaml"
    old = "On 20 January 2025 the US ended CBP One appointments"
    new = old.replace("On 20 January 2025", "On 20 January 2025 (reviewed again)")
    before = httpx.get(f"{workers}/healthz", timeout=5).json()["content"]
    status.write_text(status.read_text(encoding="utf-8").replace(old, new), "utf-8")
    # New connections each time: the requests spread over both workers.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(limits=limits, timeout=10) as client:
        deadline, fresh = time.monotonic() + 30, 0
        while fresh < 10 and time.monotonic() < deadline:  # ten answers in a row: both workers
            version = client.get(f"{workers}/healthz").json()["content"]
            fresh = fresh + 1 if version != before else 0
            time.sleep(0.2)
    assert fresh == 10, "the workers did not all pick up the edited content"
    person = PERSON + 10
    emulator.user(person, "Kim", language_code="en")
    with httpx.Client(limits=limits, timeout=10) as client:
        for n in range(8):
            update = {
                "update_id": 555_000 + n,
                "message": {
                    "message_id": 100 + n, "date": int(time.time()),
                    "text": "is cbp one still working",
                    "chat": {"id": person, "type": "private", "first_name": "Kim"},
                    "from": {"id": person, "is_bot": False, "first_name": "Kim"},
                },
            }  # fmt: skip
            response = client.post(
                f"{workers}/telegram", json=update, headers={SECRET_HEADER: SECRET}
            )
            assert response.status_code == 200
    answers = emulator.wait_for_messages(person, count=8, timeout=20)
    assert all("(reviewed again)" in a["text"] for a in answers)


@pytest.mark.parametrize("secret", ["", "has spaces", "é" * 5])
def test_webhook_mode_refuses_to_start_without_a_valid_secret(
    secret: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def must_not_serve(*args: object) -> None:
        raise AssertionError("the webhook started without a valid secret")

    monkeypatch.setattr(run, "_uvicorn", must_not_serve)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert main(["run", "--webhook"]) == 2
    assert "WEBHOOK_SECRET" in capsys.readouterr().err
