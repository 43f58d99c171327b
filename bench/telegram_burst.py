"""Benchmark of the whole bot over real HTTP: a bounded burst of messages from many simulated
users, through the Bot API emulator, into the real `migrant-bot run` process.

Reports messages answered per second, p50/p99 time from a user's message to the bot's first
reply, and the bot process's peak memory. Not a test: the figures depend on the machine, and
the bot's rate limiter deliberately holds outgoing messages to Telegram's limit (30 per second
overall), which caps throughput by design.

    .venv/bin/python bench/telegram_burst.py [--users 40] [--messages 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emulator.client import EmulatorClient, run_emulator  # noqa: E402

QUESTIONS = [
    ("es", "donde queda el centro de tapachula"),
    ("en", "is cbp one still working"),
    ("fr", "comment demander l asile au mexique"),
    ("ht", "kijan pou m jwenn transfe a"),
    ("es", "cuanto cuesta la cita"),
    ("en", "can my family come on the bus north"),
    ("fr", "il y a un medecin dans les centres"),
    ("ht", "kisa cbp one ye"),  # not a handoff: the bot would then stay quiet
]


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def simulate(emulator: EmulatorClient, user: int, count: int, latencies: list[float]) -> None:
    """One person: asks `count` questions, each after the previous answer arrived."""
    client = EmulatorClient(emulator.url, emulator.token)
    try:
        for n in range(count):
            _lang, text = QUESTIONS[(user + n) % len(QUESTIONS)]
            started = time.perf_counter()
            client.send_text(user, text)
            client.wait_for_messages(user, count=1, timeout=120)
            latencies.append(time.perf_counter() - started)
            # the rest of this answer (a location prompt) may still come: skip past it
            time.sleep(0.05)
            client._message_cursor[user] = len(client.messages(user, sender="bot"))
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--messages", type=int, default=5, help="questions per user")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, run_emulator() as emulator:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "LOG_LEVEL": "WARNING",
        }
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env)
        try:
            emulator.wait_for_poller(timeout=60)
            users = [900_000 + n for n in range(args.users)]
            for user in users:
                emulator.user(user, f"User {user}", language_code=QUESTIONS[user % 8][0])
            latencies: list[float] = []
            threads = [
                threading.Thread(target=simulate, args=(emulator, u, args.messages, latencies))
                for u in users
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            memory = peak_memory_mb(bot.pid)
        finally:
            bot.terminate()
            bot.wait(timeout=10)
    ordered = sorted(latencies)
    print(f"{len(latencies)} messages from {args.users} users in {elapsed:.1f} s: "
          f"{len(latencies) / elapsed:.1f} answered/s; user message -> first reply "
          f"p50 {1000 * statistics.median(ordered):.0f} ms, "
          f"p99 {1000 * ordered[int(0.99 * (len(ordered) - 1))]:.0f} ms; "
          f"bot peak memory {memory:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
