"""One rate limit for the whole deployment: four webhook workers on PostgreSQL under a
burst stay under Telegram's limits together, as counted at the Bot API emulator."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram.ext import AIORateLimiter

from bot.config import PROJECT_ROOT, Settings
from bot.storage.database import upgrade
from bot.transport.app import file_url
from bot.transport.ratelimit import (
    PostgresTurns,
    RedisTurns,
    SharedRateLimiter,
    Window,
    rate_limiter_for,
    windows_for,
)
from bot.transport.webhook import SECRET_HEADER
from tests.conftest import POSTGRES_URL, _fresh_postgres
from tests.emulator.client import EmulatorClient, run_emulator

SECRET = "a-webhook-secret_42"
# More than twice the answers the bot may send in a second (one to each "hola"): the limit is
# needed, and the burst takes two seconds at least.
PEOPLE = [8_100_000 + n for n in range(70)]
TALKER = 8_200_000  # writes three times at once: their answers are a second apart
TALKS = 3
BOT_LIMIT, CHAT_LIMIT = 30, 1  # per second (Telegram's)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _update(update_id: int, user: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "text": text,
            "chat": {"id": user, "type": "private", "first_name": "P"},
            "from": {"id": user, "is_bot": False, "first_name": "P"},
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


@pytest.fixture(scope="module")
def worker_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workers") / "bot.log"


@pytest.fixture(scope="module")
def four_workers(emulator: EmulatorClient, worker_log: Path) -> Iterator[str]:
    """`migrant-bot run --webhook --workers 4` on PostgreSQL. No WEBHOOK_URL: the test
    POSTs the updates itself, 40 at a time, as Telegram does (max_connections)."""
    _fresh_postgres().dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
        "DATABASE_URL": POSTGRES_URL,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    env.pop("WEBHOOK_URL", None)
    env.pop("REDIS_URL", None)
    log = worker_log
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook", "--workers", "4"],
            cwd=PROJECT_ROOT, env=env, stderr=stream, stdout=stream,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"webhook workers did not start:\n{log.read_text()[-3000:]}")
        # Every worker has started once setMyCommands was called 5 times by each.
        emulator.wait_for_calls("setMyCommands", count=20, timeout=90)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _post_all(url: str, updates: list[dict[str, object]]) -> list[int]:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        answers = await asyncio.gather(
            *(
                http.post(f"{url}/telegram", json=u, headers={SECRET_HEADER: SECRET})
                for u in updates
            )
        )
    return [a.status_code for a in answers]


def _most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_four_workers_under_a_burst_stay_under_telegrams_limits_together(
    emulator: EmulatorClient, four_workers: str
) -> None:
    for user in [*PEOPLE, TALKER]:
        emulator.user(user, "P", language_code="es")
    updates = [_update(1000 + n, user, "hola") for n, user in enumerate(PEOPLE)]
    updates += [_update(2000 + n, TALKER, "hola") for n in range(TALKS)]
    before = {c["seq"] for c in emulator.calls()}

    assert asyncio.run(_post_all(four_workers, updates)) == [200] * len(updates)

    sends = [c for c in emulator.calls() if c["seq"] not in before and "chat_id" in c["params"]]
    assert [c for c in sends if not c.get("ok")] == []  # no 429, nor anything else refused
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in sends:
        by_chat[int(call["params"]["chat_id"])].append(call["time"])
    assert set(by_chat) == {*PEOPLE, TALKER}  # nothing lost: everyone was answered
    assert len(by_chat[TALKER]) >= TALKS
    assert _most_in_any_second([c["time"] for c in sends]) <= BOT_LIMIT
    assert max(_most_in_any_second(times) for times in by_chat.values()) <= CHAT_LIMIT
    # The burst was big enough to need the limit: at 30 a second it took seconds.
    people = [c["time"] for c in sends if int(c["params"]["chat_id"]) != TALKER]
    assert len(people) > 2 * BOT_LIMIT and max(people) - min(people) > 1.5


def test_every_worker_s_metrics_page_counts_the_updates_of_all_four(four_workers: str) -> None:
    def updates_counted() -> float:
        page = httpx.get(f"{four_workers}/metrics", timeout=5).text  # a new connection each
        [family] = [
            f for f in text_string_to_metric_families(page) if f.name == "migrant_bot_updates"
        ]
        return sum(s.value for s in family.samples if s.name == "migrant_bot_updates_total")

    assert {updates_counted() for _ in range(12)} == {len(PEOPLE) + TALKS}


def test_with_log_format_json_every_worker_logs_json_lines_without_the_messages(
    four_workers: str, worker_log: Path
) -> None:
    lines = worker_log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # uvicorn's own lines are warnings only
    assert sum(r["message"] == "Application started" for r in records) == 4
    assert not any("hola" in line for line in lines)


@pytest.fixture
def turns() -> PostgresTurns:
    database = _fresh_postgres()
    upgrade(database)
    database.dispose()
    return PostgresTurns(POSTGRES_URL)


def test_a_group_gets_twenty_sends_a_minute_then_waits_the_rest_of_the_minute(
    turns: PostgresTurns,
) -> None:
    group = [w for w in windows_for(-100123) if w.key.startswith("group:")]
    assert [w.limit for w in group] == [20]

    async def burst() -> list[float]:
        try:
            return [(await turns.take(group))[0] for _ in range(21)]
        finally:
            await turns.close()

    waits = asyncio.run(burst())
    assert waits[:20] == [0.0] * 20
    assert 59 < waits[20] <= group[0].seconds


def test_a_full_window_records_nothing_so_the_other_windows_keep_their_room(
    turns: PostgresTurns,
) -> None:
    chat, bot = Window("chat:1", 1, 1.0), Window("bot", 2, 1.0)

    async def sends() -> list[float]:
        try:
            return [(await turns.take([chat, bot]))[0], (await turns.take([chat, bot]))[0],
                    (await turns.take([Window("chat:2", 1, 1.0), bot]))[0]]  # fmt: skip
        finally:
            await turns.close()

    first, refused, other_chat = asyncio.run(sends())
    assert first == 0.0 and 0 < refused <= 1.0
    assert other_chat == 0.0  # the refused send did not take the bot's second place


def test_the_deployment_shares_its_limits_where_its_workers_can(tmp_path: Path) -> None:
    sqlite = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'b.sqlite3'}")
    postgres = Settings(_env_file=None, database_url=POSTGRES_URL)
    redis = Settings(_env_file=None, database_url=POSTGRES_URL, redis_url="redis://127.0.0.1:1")
    assert isinstance(rate_limiter_for(sqlite), AIORateLimiter)
    shared = rate_limiter_for(postgres)
    assert isinstance(shared, SharedRateLimiter)
    asyncio.run(shared.shutdown())
    assert isinstance(rate_limiter_for(redis), SharedRateLimiter)


@pytest.mark.parametrize(
    ("base", "files"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("https://bot.example.org/bot", "https://bot.example.org/file/bot"),
        ("http://robot.example.org:8081/bot", "http://robot.example.org:8081/file/bot"),
        ("http://127.0.0.1:8081/botapi/bot", "http://127.0.0.1:8081/botapi/file/bot"),
    ],
)
def test_the_file_address_changes_the_last_bot_only_never_the_host(base: str, files: str) -> None:
    assert file_url(base) == files


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A Redis server of the test's own, on a free port (skipped where Redis is not
    installed: REDIS_URL is optional)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_windows_give_the_limit_then_say_how_long_to_wait(redis_url: str) -> None:
    turns = RedisTurns(redis_url)
    chat, bot = Window("chat:1", 1, 1.0), Window("bot", 2, 1.0)

    async def sends() -> list[float]:
        try:
            return [(await turns.take([chat, bot]))[0], (await turns.take([chat, bot]))[0],
                    (await turns.take([Window("chat:2", 1, 1.0), bot]))[0],
                    (await turns.take([Window("chat:3", 1, 1.0), bot]))[0]]  # fmt: skip
        finally:
            await turns.close()

    first, same_chat, other_chat, past_the_bot = asyncio.run(sends())
    assert first == 0.0 and other_chat == 0.0
    assert 0 < same_chat <= 1.0 and 0 < past_the_bot <= 1.0
