"""Handoff end to end: a person in a private chat and operators in a forum supergroup, with
real `Update` objects through the bot's delivery path and the Bot API emulator in the same
thread (tests/inprocess.py); and the smoke test of the real `migrant-bot run` process: a
handoff across a restart, over HTTP."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import text

from bot.app import Parts
from bot.config import PROJECT_ROOT, Settings
from bot.content.loader import load_catalog
from bot.storage.database import make_engine
from tests.dialog import shown_answer
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import LocalTelegram

CATALOG = load_catalog(Settings(_env_file=None).content_dir)
OPERATOR, OTHER_OPERATOR, STRANGER, ADMIN = 5_000_001, 5_000_002, 5_000_003, 5_000_004
STAFF = -1_009_990_001
_ids = itertools.count(810_001)


def _staff_group(emulator: EmulatorClient, chat_id: int | None = None) -> int:
    emulator.user(OPERATOR, "Ana", language_code="es")
    emulator.user(OTHER_OPERATOR, "Luis", language_code="es")
    emulator.user(STRANGER, "Eve", language_code="es")
    emulator.user(ADMIN, "Marta", language_code="es")
    group = emulator.group(
        "Operadores",
        members={OPERATOR: "member", OTHER_OPERATOR: "member", ADMIN: "administrator"},
        is_forum=True,
        bot_status="administrator",
        chat_id=chat_id,
    )
    return int(group["id"])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """SQLite, as the process below: the storage tests run every engine."""
    database = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture
def content(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "content", tmp_path / "content")
    return tmp_path / "content"


@pytest.fixture
def emulator(
    settings: Settings, parts: Parts, database: Database, content: Path
) -> Iterator[LocalTelegram]:
    local = settings.model_copy(update={
        "staff_chat_id": STAFF, "handoff_hours": "mon-sun 00:00-23:59", "content_dir": content,
    })  # fmt: skip
    telegram = LocalTelegram(local, parts, database)
    yield telegram
    telegram.close()


@pytest.fixture
def staff(emulator: LocalTelegram) -> int:
    return _staff_group(emulator, STAFF)


def _person(emulator: EmulatorClient, lang: str) -> int:
    user = next(_ids)
    emulator.user(user, f"Persona {user}", language_code=lang)
    return user


def _topic_of(emulator: EmulatorClient, staff: int) -> tuple[int, dict]:
    """The newest ticket header in the staff group and its topic."""
    [header] = emulator.wait_for_messages(staff)
    return int(header["message_thread_id"]), header


def _waiting_for_a_person(
    emulator: EmulatorClient, staff: int, lang: str
) -> tuple[int, int, dict]:
    """A new person who asked for a human, with their ticket's topic and header."""
    person = _person(emulator, lang)
    emulator.send_command(person, "human")
    emulator.wait_for_messages(person, count=2)
    thread, header = _topic_of(emulator, staff)
    return person, thread, header


@pytest.mark.parametrize("lang", ["es", "en", "fr", "ht"])
def test_a_person_is_answered_by_an_operator_and_rates_the_help(
    emulator: LocalTelegram, staff: int, lang: str
) -> None:
    person = _person(emulator, lang)
    emulator.send_command(person, "human")
    confirmation = emulator.wait_for_messages(person, count=2)
    assert confirmation[0]["text"] == shown_answer("talk_to_human", lang)
    assert "/cancel" in confirmation[1]["text"]

    thread, header = _topic_of(emulator, staff)
    [topic] = emulator.calls("createForumTopic")[-1:]
    assert topic["params"]["name"].startswith("🟢 #")
    assert f"· {lang.upper()} ·" in topic["params"]["name"]
    assert f"Persona {person}" not in header["text"]  # a pseudonym, never the name

    emulator.send_text(person, "tengo una pregunta sobre mis papeles")
    [relayed] = emulator.wait_for_messages(staff)
    assert relayed["message_thread_id"] == thread
    assert relayed["text"] == "tengo una pregunta sobre mis papeles"
    with pytest.raises(TimeoutError):  # the bot itself stays quiet
        emulator.wait_for_messages(person, timeout=0)

    emulator.send_text(OPERATOR, "Hola, soy del equipo. ¿En qué ciudad está?", chat_id=staff,
                       message_thread_id=thread)  # fmt: skip
    [copy] = emulator.wait_for_messages(person)
    assert copy["text"] == "Hola, soy del equipo. ¿En qué ciudad está?"
    assert "forward_origin" not in copy  # a copy: the operator stays hidden

    emulator.send_text(OPERATOR, "/answer asylum_mexico", chat_id=staff, message_thread_id=thread)
    [answer] = emulator.wait_for_messages(person)
    assert answer["text"] == shown_answer("asylum_mexico", lang)
    [shown] = emulator.wait_for_messages(staff)
    assert shown_answer("asylum_mexico", lang) in shown["text"]

    emulator.send_text(OPERATOR, "/close", chat_id=staff, message_thread_id=thread)
    rating, _menu = emulator.wait_for_messages(person, count=2)
    buttons = [b["text"] for row in rating["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["👍", "👎"]
    assert emulator.wait_for_calls("closeForumTopic")[-1]["params"]["message_thread_id"] == thread
    emulator.press_button(person, rating, text="👍")
    [thanks] = emulator.wait_for_messages(person)
    assert thanks["text"]
    emulator.wait_for_messages(staff)  # "closed by Ana"


def test_claim_is_won_by_one_operator_and_the_other_is_told(
    emulator: LocalTelegram, staff: int
) -> None:
    _person_id, _thread, header = _waiting_for_a_person(emulator, staff, "es")
    first = emulator.press_button(OPERATOR, header, text="✋ Tomar")
    second = emulator.press_button(OTHER_OPERATOR, header, text="✋ Tomar")
    won = emulator.callback_answer(first["id"])
    lost = emulator.callback_answer(second["id"])
    assert won is not None and "Ana" in (won.get("text") or "")
    assert lost is not None and "Ana" in (lost.get("text") or "") and lost.get("show_alert")
    emulator.wait_for_messages(staff)  # "Tomado por Ana" in the topic
    emulator.send_text(OPERATOR, "/queue", chat_id=staff)
    [queue] = emulator.wait_for_messages(staff)
    assert "Ana" in queue["text"]


def test_an_administrator_posting_anonymously_as_the_group_reaches_the_person(
    emulator: LocalTelegram, staff: int
) -> None:
    person, thread, _header = _waiting_for_a_person(emulator, staff, "es")
    sent = emulator.send_text(ADMIN, "Le escribe el equipo.", chat_id=staff,
                              message_thread_id=thread, anonymous=True)  # fmt: skip
    assert sent["from"]["username"] == "GroupAnonymousBot" and sent["sender_chat"]["id"] == staff
    [copy] = emulator.wait_for_messages(person)
    assert copy["text"] == "Le escribe el equipo."
    emulator.send_text(ADMIN, "/close", chat_id=staff, message_thread_id=thread, anonymous=True)
    emulator.wait_for_messages(person, count=2)  # the rating and the menu
    [closed] = emulator.wait_for_messages(staff)
    assert "Administrador anónimo" in closed["text"] and "Group" not in closed["text"]


def test_an_emergency_deep_link_shows_the_numbers_and_opens_a_ticket_only_on_request(
    emulator: LocalTelegram, staff: int
) -> None:
    person = _person(emulator, "es")
    emulator.send_command(person, "start", "emergency-es")
    [answer] = emulator.wait_for_messages(person)
    assert answer["text"] == shown_answer("emergency", "es") and "911" in answer["text"]
    assert not [c for c in emulator.calls() if c["params"].get("chat_id") == staff]
    emulator.press_button(person, answer, text="🙋 Hablar con una persona")
    emulator.wait_for_messages(person, count=2)
    _topic_of(emulator, staff)


def test_forget_deletes_the_ticket_topic_with_every_message_in_the_staff_group(
    emulator: LocalTelegram, staff: int
) -> None:
    person, thread, header = _waiting_for_a_person(emulator, staff, "es")
    emulator.send_text(person, "me llamo Rosa, tengo una pregunta sobre mis papeles")
    emulator.wait_for_messages(staff)  # the copy in the topic
    emulator.send_text(OPERATOR, "Hola Rosa", chat_id=staff, message_thread_id=thread)
    emulator.wait_for_messages(person)
    emulator.send_command(person, "forget")
    [question] = emulator.wait_for_messages(person)
    emulator.press_button(person, question, text="Sí, borrar todo")
    emulator.wait_for_messages(person)  # "Done. I deleted everything…"
    [notice] = emulator.wait_for_messages(staff)
    assert notice["text"].startswith("🗑 Caso #") and "message_thread_id" not in notice
    assert thread not in [t["message_thread_id"] for t in emulator.chat(staff)["topics"]]
    left = [m.get("text", "") for m in emulator.messages(staff)]
    assert not any("Rosa" in text for text in left)
    assert header["message_id"] not in [m["message_id"] for m in emulator.messages(staff)]


def test_emergency_opens_an_urgent_topic(emulator: LocalTelegram, staff: int) -> None:
    person = _person(emulator, "ht")
    emulator.send_text(person, "gen de moun ki ap swiv mwen, m pe anpil, ede m")
    first = emulator.wait_for_messages(person, count=2)
    assert "911" in first[0]["text"][:120] and "911" in first[1]["text"]
    _topic_of(emulator, staff)
    assert emulator.calls("createForumTopic")[-1]["params"]["name"].startswith("🔴 #")


def test_staff_commands_from_outside_the_group_are_ignored(
    emulator: LocalTelegram, staff: int
) -> None:
    emulator.send_text(STRANGER, "/queue")
    with pytest.raises(TimeoutError):
        emulator.wait_for_messages(STRANGER, timeout=0)
    assert not [c for c in emulator.calls() if c["params"].get("chat_id") == STRANGER]


def test_a_restart_in_the_middle_of_a_handoff_loses_nothing(
    emulator: LocalTelegram, staff: int
) -> None:
    person, thread, _header = _waiting_for_a_person(emulator, staff, "fr")
    emulator.down = True
    emulator.send_text(person, "vous etes toujours la?")  # arrives while the bot is down
    emulator.restart()
    emulator.deliver()
    [relayed] = emulator.wait_for_messages(staff, timeout=0)
    assert relayed["text"] == "vous etes toujours la?"
    emulator.send_text(OPERATOR, "Oui, je suis la.", chat_id=staff, message_thread_id=thread)
    [copy] = emulator.wait_for_messages(person, timeout=0)
    assert copy["text"] == "Oui, je suis la."


def test_an_operator_is_told_when_the_person_blocked_the_bot(
    emulator: LocalTelegram, staff: int, database: Database
) -> None:
    person, thread, _header = _waiting_for_a_person(emulator, staff, "en")
    emulator.block(person)
    emulator.send_text(OPERATOR, "Are you still there?", chat_id=staff, message_thread_id=thread)
    [warning] = emulator.wait_for_messages(staff)
    assert "bloqueó" in warning["text"] or "blocked" in warning["text"]
    assert warning["message_thread_id"] == thread
    with database.connect() as connection:
        since = connection.execute(
            text("SELECT unreachable_since FROM people WHERE user_id = :u"), {"u": person}
        ).scalar_one()
    assert since is not None
    for _ in range(3):  # several catch-up rounds: none of them retries the person
        emulator.catch_up()
    to_person = [
        c for c in emulator.calls()
        if c["method"] in ("sendMessage", "copyMessage") and c["params"].get("chat_id") == person
    ]  # fmt: skip
    assert len([c for c in to_person if not c.get("ok")]) == 1


def test_reload_serves_edited_content_and_refuses_broken_content(
    emulator: LocalTelegram, staff: int
) -> None:
    content = emulator.settings.content_dir
    asylum = content / "intents" / "asylum.yaml"
    good = asylum.read_text(encoding="utf-8")
    asylum.write_text(good.replace("  topic: asylum\n", '  topic: "asylum\n'), "utf-8")
    emulator.send_text(OPERATOR, "/reload", chat_id=staff)
    [refused] = emulator.wait_for_messages(staff, timeout=20)
    assert "NO" in refused["text"] and "content/intents/asylum.yaml:" in refused["text"]

    asylum.write_text(good.replace("En México el asilo", "En México (editado) el asilo"), "utf-8")
    emulator.send_text(OPERATOR, "/reload", chat_id=staff)
    [done] = emulator.wait_for_messages(staff, timeout=20)
    assert "versión" in done["text"] or "version" in done["text"]
    person = _person(emulator, "es")
    emulator.send_text(person, "como pido asilo en mexico")
    [answer] = emulator.wait_for_messages(person)
    assert "En México (editado) el asilo" in answer["text"]


def test_unanswered_lists_what_the_bot_could_not_answer(
    emulator: LocalTelegram, staff: int
) -> None:
    for _ in range(2):
        person = _person(emulator, "es")
        emulator.send_text(person, "donde cambio dolares a pesos")
        emulator.wait_for_messages(person)
    emulator.send_text(OPERATOR, "/unanswered", chat_id=staff)
    [report] = emulator.wait_for_messages(staff)
    assert "2× [es] donde cambio dolares a pesos" in report["text"]


def test_the_bot_process_carries_a_handoff_both_ways(tmp_path: Path) -> None:
    """The smoke test of the real process over HTTP: a person asks for a human, a ticket's
    topic opens, and messages go both ways (the restart smoke test is test_restart_e2e)."""
    with run_emulator() as emulator:
        staff = _staff_group(emulator)
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "STAFF_CHAT_ID": str(staff),
            "HANDOFF_HOURS": "mon-sun 00:00-23:59",
            "CONTENT_CHECK_SECONDS": "3600",
        }
        with (tmp_path / "bot.log").open("w") as stream:
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, stderr=stream
            )
        try:
            emulator.wait_for_poller(timeout=60)
            person, thread, _header = _waiting_for_a_person(emulator, staff, "fr")
            emulator.send_text(person, "vous etes toujours la?")
            [relayed] = emulator.wait_for_messages(staff, timeout=30)
            assert relayed["text"] == "vous etes toujours la?"
            assert relayed["message_thread_id"] == thread
            emulator.send_text(
                OPERATOR, "Oui, je suis la.", chat_id=staff, message_thread_id=thread
            )
            [copy] = emulator.wait_for_messages(person, timeout=30)
            assert copy["text"] == "Oui, je suis la."
        finally:
            bot.terminate()
            bot.wait(timeout=20)
