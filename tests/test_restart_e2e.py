"""A restart in the middle of a burst loses nothing: the real bot is stopped (kill -9, or the
SIGTERM of a normal restart) while 15 people's 45 questions are being answered, and started
again; a webhook worker is killed while Telegram (the test) retries on another worker.

Every question is answered, and answered once. An answer can come twice only if the kill
landed after the answer was sent and before its update was marked done; the tests allow it
only for the updates that the database shows unfinished at the kill and that were answered."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from bot.config import PROJECT_ROOT, Settings
from bot.content.loader import load_catalog
from bot.storage.database import make_engine, upgrade
from tests.conftest import POSTGRES_URL, _fresh_postgres
from tests.dialog import shown_answer
from tests.emulator.client import EmulatorClient, run_emulator

CATALOG = load_catalog(Settings(_env_file=None).content_dir)
QUESTIONS = {
    "what is cbp one": "cbp_one_about",
    "how do i ask for asylum in mexico": "asylum_mexico",
    "is cbp one still working": "cbp_one_status",
}
ANSWERS = {q: shown_answer(intent, "en") for q, intent in QUESTIONS.items()}
SECRET = "restart-secret_1"
Key = tuple[int, str]  # a person and one of their questions


def _env(emulator: EmulatorClient, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
        "DATABASE_URL": database_url,
        "CONTENT_CHECK_SECONDS": "3600",
        "LOG_LEVEL": "INFO",
    }


def _start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *arguments], cwd=PROJECT_ROOT, env=env,
            stderr=stream, stdout=stream,
        )  # fmt: skip


def _answers(emulator: EmulatorClient, people: Iterable[int]) -> tuple[Counter[Key], int]:
    """How many times each question was answered, and how many other messages were sent."""
    counts: Counter[Key] = Counter()
    others = 0
    by_text = {answer: question for question, answer in ANSWERS.items()}
    for person in people:
        for message in emulator.messages(person, sender="bot"):
            question = by_text.get(message.get("text", ""))
            if question is None:
                others += 1
            else:
                counts[person, question] += 1
    return counts, others


def _in_the_middle(
    emulator: EmulatorClient, answered: int, then_within: float, timeout: float = 20
) -> None:
    """Returns once `answered` answers were sent, and then at a moment taken at random
    within `then_within` seconds (so that the kill falls anywhere, not just after a send)."""
    deadline = time.monotonic() + timeout
    while len(emulator.calls("sendMessage")) < answered:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {answered} answers in {timeout} s")
        time.sleep(0.02)
    time.sleep(random.uniform(0, then_within))


def _until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not so within {timeout} s")
        time.sleep(0.02)


def _until_all_answered(
    emulator: EmulatorClient,
    people: list[int],
    settled: Callable[[], bool],
    timeout: float = 30,
) -> tuple[Counter[Key], int]:
    """Once every question is answered and `settled` says no update is left to handle (none
    pending, none claimed): no doubled answer can come after that, so none is waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts, _ = _answers(emulator, people)
        if len(counts) == len(people) * len(QUESTIONS) and settled():
            break
        time.sleep(0.1)
    return _answers(emulator, people)


def _check(
    label: str,
    people: list[int],
    at_stop: Counter[Key],
    final: Counter[Key],
    others: int,
    window: set[Key],
) -> None:
    asked = [(person, question) for person in people for question in QUESTIONS]
    lost = [key for key in asked if final[key] == 0]
    doubled = [key for key in asked if final[key] > 1]
    summary = (
        f"{label}: {len(asked) - len(lost)}/{len(asked)} answered ({sum(at_stop.values())} "
        f"before the stop), {len(lost)} lost, {len(doubled)} doubled "
        f"({len(window)} in the send-to-commit window), {others} other messages"
    )
    print(summary)
    assert not lost, summary
    assert others == 0, summary
    assert all(final[key] == 2 and key in window for key in doubled), summary


@pytest.mark.parametrize("stop", ["kill -9", "SIGTERM"])
def test_a_polling_bot_stopped_in_the_middle_of_a_burst_answers_every_question_once(
    stop: str, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    people = [9_100_001 + n for n in range(15)]
    with run_emulator() as emulator:
        for person in people:
            emulator.user(person, f"Persona {person}", language_code="en")
        env = _env(emulator, f"sqlite:///{database}")
        log = tmp_path / "bot.log"
        bot = _start([], env, log)
        try:
            emulator.wait_for_poller(timeout=30)
            for question in QUESTIONS:  # everyone asks, three times over
                for person in people:
                    emulator.send_text(person, question)
            _in_the_middle(emulator, answered=10, then_within=0.5)
            bot.send_signal(signal.SIGKILL if stop == "kill -9" else signal.SIGTERM)
            bot.wait(timeout=20)
            time.sleep(0.3)  # the emulator finishes what it was sent
            at_stop, _ = _answers(emulator, people)
            unfinished = _unfinished_sqlite(database)
            updates = {
                u["update_id"]: (u["message"]["chat"]["id"], u["message"]["text"])
                for u in emulator.updates()["log"]
                if "message" in u
            }
            window = {updates[u] for u in unfinished if at_stop[updates[u]]}
            bot = _start([], env, log)
            final, others = _until_all_answered(
                emulator,
                people,
                lambda: not emulator.updates()["pending"] and not _unfinished_sqlite(database),
            )
        finally:
            bot.terminate()
            bot.wait(timeout=20)
    if stop == "SIGTERM":
        assert not unfinished, "a normal stop finishes what it handles"
    _check(f"long polling, {stop}", people, at_stop, final, others, window)


def _unfinished_sqlite(database: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(database)) as connection:  # `with` alone: no close
        try:
            rows = connection.execute(
                "SELECT update_id FROM processed_updates WHERE state = 'handling'"
            ).fetchall()
        except sqlite3.OperationalError:  # a schema without claim states
            return set()
    return {row[0] for row in rows}


def _unfinished_postgres() -> set[int]:
    database = make_engine(POSTGRES_URL)
    try:
        with database.connect() as connection:
            return set(
                connection.execute(
                    text("SELECT update_id FROM processed_updates WHERE state = 'handling'")
                ).scalars()
            )
    except ProgrammingError:  # a schema without claim states
        return set()
    finally:
        database.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _update(update_id: int, person: int, message_id: int, question: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id, "date": int(time.time()), "text": question,
            "chat": {"id": person, "type": "private", "first_name": "P"},
            "from": {"id": person, "is_bot": False, "first_name": "P", "language_code": "en"},
        },
    }  # fmt: skip


def _healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"webhook worker did not start:\n{log.read_text()[-3000:]}")


def test_a_webhook_worker_killed_mid_update_leaves_it_to_telegrams_retry_on_another(
    tmp_path: Path,
) -> None:
    database = _fresh_postgres()
    upgrade(database)  # once, before the two workers start
    database.dispose()
    people = [9_200_001 + n for n in range(10)]
    with run_emulator() as emulator:
        for person in people:
            emulator.user(person, f"Persona {person}", language_code="en")
        env = {**_env(emulator, POSTGRES_URL), "WEBHOOK_SECRET": SECRET}
        ports = _free_port(), _free_port()
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        logs = [tmp_path / f"worker{n}.log" for n in range(2)]
        workers = [
            _start(["--webhook"], {**env, "WEBHOOK_PORT": str(port)}, log)
            for port, log in zip(ports, logs, strict=True)
        ]
        dead, over = threading.Event(), threading.Event()
        updates: dict[int, Key] = {}
        try:
            for url, worker, log in zip(urls, workers, logs, strict=True):
                _healthy(url, worker, log)

            def deliver(update: dict[str, Any]) -> None:
                """Telegram: again and again until a worker says 200; the first worker
                while it lives, then the other one."""
                with httpx.Client(timeout=30) as client:
                    while not over.is_set():
                        url = urls[1] if dead.is_set() else urls[0]
                        try:
                            sent = client.post(
                                f"{url}/telegram", json=update, headers={
                                    "X-Telegram-Bot-Api-Secret-Token": SECRET
                                },
                            )  # fmt: skip
                            if sent.status_code == 200:
                                return
                        except httpx.HTTPError:
                            pass
                        time.sleep(0.25)

            def person_writes(person: int, first: int) -> None:
                for n, question in enumerate(QUESTIONS):
                    deliver(_update(first + n, person, n + 1, question))

            threads = []
            for index, person in enumerate(people):
                first = 5_000_000 + 10 * index
                updates.update({first + n: (person, q) for n, q in enumerate(QUESTIONS)})
                threads.append(
                    threading.Thread(target=person_writes, args=(person, first), daemon=True)
                )
            for thread in threads:
                thread.start()
            _in_the_middle(emulator, answered=8, then_within=0.05)
            # Telegram asks the bot to slow down: the updates being handled now wait a moment
            # in the middle (the rate limiter retries), and the first worker dies then.
            emulator.flood("sendMessage", times=10, retry_after=1)
            _until(lambda: len([c for c in emulator.calls("sendMessage") if not c["ok"]]) >= 5)
            workers[0].send_signal(signal.SIGKILL)
            dead.set()
            workers[0].wait(timeout=10)
            emulator.flood("sendMessage", times=0)  # no more slowing down
            time.sleep(0.3)
            at_stop, _ = _answers(emulator, people)
            unfinished = _unfinished_postgres()
            for thread in threads:  # each update got its 200: handled
                thread.join(timeout=30)
            final, others = _until_all_answered(
                emulator, people, lambda: not _unfinished_postgres()
            )
        finally:
            dead.set()
            over.set()
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=20)
    window = {updates[u] for u in unfinished if at_stop[updates[u]]}
    _check("webhook, kill -9 of a worker", people, at_stop, final, others, window)
