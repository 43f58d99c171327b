"""Load test of webhook mode (a benchmark, not a timed test): a bounded burst of updates POSTed
to `migrant-bot run --webhook` (1 and 2 workers, SQLite and PostgreSQL), answering into the
Bot API emulator. Prints updates per second and p50/p99 time per POST (handling included).

    .venv/bin/python bench/webhook_load.py [--updates 200] [--concurrency 16]

PostgreSQL: TEST_POSTGRES_URL (default the local `test` database; it is emptied).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.emulator.client import EmulatorClient, run_emulator  # noqa: E402

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECRET = "load-test-secret"
QUESTIONS = [
    "donde queda el centro de tapachula",
    "is cbp one still working",
    "comment demander l asile au mexique",
    "kijan pou m jwenn transfe a",
    "cuanto cuesta la cita",
    "what is the safe transfer",
]
USERS = 50


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _empty_postgres() -> None:
    database = create_engine(POSTGRES_URL)
    with database.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()


def _update(number: int) -> dict:
    user = 950_000 + number % USERS
    return {
        "update_id": 10_000 + number,
        "message": {
            "message_id": number + 1, "date": int(time.time()),
            "text": QUESTIONS[number % len(QUESTIONS)],
            "chat": {"id": user, "type": "private", "first_name": "U"},
            "from": {"id": user, "is_bot": False, "first_name": "U", "language_code": "es"},
        },
    }  # fmt: skip


async def _burst(url: str, updates: int, concurrency: int) -> tuple[float, list[float], int]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0

    async def post(client: httpx.AsyncClient, number: int) -> None:
        nonlocal failures
        async with gate:
            begin = time.perf_counter()
            response = await client.post(
                f"{url}/telegram",
                json=_update(number),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            latencies.append(time.perf_counter() - begin)
            failures += response.status_code != 200

    # No keep-alive: every POST is a new connection, so the workers share the load as they
    # would behind a reverse proxy.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post(client, n) for n in range(updates)))
        return time.perf_counter() - started, latencies, failures


def measure(
    emulator: EmulatorClient, database: str, workers: int, updates: int, concurrency: int
) -> str:
    folder = tempfile.mkdtemp()
    if database == "postgresql":
        _empty_postgres()
        url_db = POSTGRES_URL
    else:
        url_db = f"sqlite:///{folder}/load.sqlite3"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
        "DATABASE_URL": url_db,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--webhook", "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("webhook workers did not start")
            time.sleep(0.3)
        elapsed, latencies, failures = asyncio.run(_burst(url, updates, concurrency))
    finally:
        process.terminate()
        process.wait(timeout=30)
    ordered = sorted(latencies)
    return (
        f"{database:10} {workers} worker(s): {updates / elapsed:6.1f} updates/s, "
        f"p50 {1000 * statistics.median(ordered):6.0f} ms, "
        f"p99 {1000 * ordered[int(0.99 * (len(ordered) - 1))]:6.0f} ms, "
        f"{failures} not 200 (retried by Telegram in real life)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with run_emulator() as emulator:
        for n in range(USERS):
            emulator.user(950_000 + n, "U", language_code="es")
        for database in ("sqlite", "postgresql"):
            for workers in (1, 2):
                print(measure(emulator, database, workers, args.updates, args.concurrency))


if __name__ == "__main__":
    main()
