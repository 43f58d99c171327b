"""Telegram users in all four languages, end to end: real `Update` objects through the bot's
delivery path with the Bot API emulator answering in the same thread (tests/inprocess.py), and
one smoke test of the real `migrant-bot run` process long polling the emulator over HTTP."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database

from bot.app import Parts
from bot.config import PROJECT_ROOT, Settings
from bot.content.loader import load_catalog
from bot.storage.database import make_engine
from tests.dialog import shown_answer
from tests.emulator.client import EmulatorClient, run_emulator
from tests.inprocess import LocalTelegram

CATALOG = load_catalog(Settings(_env_file=None).content_dir)
_ids = itertools.count(700_001)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """SQLite, as the process below: the storage tests run every engine."""
    database = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture
def emulator(settings: Settings, parts: Parts, database: Database) -> Iterator[LocalTelegram]:
    """The bot without a staff group, as the process below runs."""
    telegram = LocalTelegram(settings.model_copy(update={"staff_chat_id": None}), parts, database)
    yield telegram
    telegram.close()


def _person(emulator: EmulatorClient | LocalTelegram, lang: str | None) -> int:
    user_id = next(_ids)
    emulator.user(user_id, f"Persona {user_id}", language_code=lang)
    return user_id


def _buttons(message: dict) -> list[str]:
    keyboard = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["text"] for row in keyboard for button in row]


LANGS = ["es", "en", "fr", "ht"]
TYPO_QUESTIONS = {
    "es": ("kiero saver si cbp one todabia funsiona", "cbp_one_status"),
    "en": ("wat happen to the cbp one apointments", "cbp_one_status"),
    "fr": ("cest koi le transfer vers la frontiere, c gratuit?", "safe_transfer_about"),
    "ht": ("kote sant tapachla a ye", "center_tapachula"),
}
EMERGENCIES = {
    "es": "ayuda me estan siguiendo unos hombres",
    "en": "help me they are following me",
    "fr": "au secours on me suit",
    "ht": "ede m gen moun k ap swiv mwen",
}


@pytest.mark.parametrize("lang", LANGS)
def test_start_offers_languages_and_menu_and_a_language_choice_sticks(
    emulator: LocalTelegram, lang: str
) -> None:
    user = _person(emulator, "de")  # an app language we don't speak: Spanish first
    emulator.send_command(user, "start")
    welcome, menu = emulator.wait_for_messages(user, count=2)
    assert welcome["text"] == shown_answer("greeting", "es")
    assert _buttons(welcome) == ["Español", "English", "Français", "Kreyòl"]
    assert len(_buttons(menu)) == len(CATALOG.topics) + 2
    label = {"es": "Español", "en": "English", "fr": "Français", "ht": "Kreyòl"}[lang]
    emulator.press_button(user, welcome, text=label)
    [switched] = emulator.wait_for_messages(user)
    assert [t.title[lang] for t in CATALOG.topics.values()] == _buttons(switched)[:-2]


@pytest.mark.parametrize("lang", LANGS)
def test_menu_path_leads_to_an_answer(emulator: LocalTelegram, lang: str) -> None:
    user = _person(emulator, lang)
    emulator.send_command(user, "menu")
    [menu] = emulator.wait_for_messages(user)
    emulator.press_button(user, menu, text=CATALOG.topics["cbp_one"].title[lang])
    [submenu] = emulator.wait_for_messages(user)
    emulator.press_button(user, submenu, text=CATALOG.intents["cbp_one_status"].title[lang])
    [answer] = emulator.wait_for_messages(user)
    assert answer["text"] == shown_answer("cbp_one_status", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_free_text_with_typos_gets_the_right_answer(emulator: LocalTelegram, lang: str) -> None:
    user = _person(emulator, lang)
    text, intent = TYPO_QUESTIONS[lang]
    emulator.send_text(user, text)
    answer = emulator.wait_for_messages(user)[0]
    assert answer["text"] == shown_answer(intent, lang)
    related = [CATALOG.intents[r].title[lang] for r in CATALOG.intents[intent].related]
    assert set(related) <= set(_buttons(answer))


def test_did_you_mean_button_answers_the_chosen_intent(emulator: LocalTelegram) -> None:
    user = _person(emulator, "es")
    emulator.send_text(user, "papeles migratorios")
    [question] = emulator.wait_for_messages(user)
    titles = {CATALOG.intents[i].title["es"]: i for i in CATALOG.intents}
    choice = next(b for b in _buttons(question) if b in titles)
    emulator.press_button(user, question, text=choice)
    [answer] = emulator.wait_for_messages(user)
    assert answer["text"] == shown_answer(titles[choice], "es")


@pytest.mark.parametrize("lang", LANGS)
def test_location_lists_the_nearest_places_without_a_false_map_pin(
    emulator: LocalTelegram, lang: str
) -> None:
    """The places are known only to their town: listed with an approximate distance, never
    sent as a venue pin that would look like the door."""
    user = _person(emulator, lang)
    emulator.send_location(user, 15.14, -92.46)  # Huixtla, about 30 km from Tapachula
    listing, _menu = emulator.wait_for_messages(user, count=2)
    assert "km" in listing["text"] and "venue" not in listing
    assert CATALOG.places["cms_tapachula"].name[lang] in listing["text"]


@pytest.mark.parametrize("lang", LANGS)
def test_emergency_gets_the_numbers_first(emulator: LocalTelegram, lang: str) -> None:
    user = _person(emulator, lang)
    emulator.send_text(user, EMERGENCIES[lang])
    first = emulator.wait_for_messages(user)[0]
    assert "911" in first["text"][:120]


@pytest.mark.parametrize("lang", LANGS)
def test_voice_note_gets_a_kind_reply_in_the_persons_language(
    emulator: LocalTelegram, lang: str
) -> None:
    user = _person(emulator, lang)
    emulator.send_voice(user)
    [reply] = emulator.wait_for_messages(user)
    assert (
        reply["text"]
        == {
            "es": "Solo puedo leer texto y ubicaciones. Escriba su pregunta en pocas palabras o "
            "elija un tema.",
            "en": "I can only read text and locations. Please write your question in a few words, "
            "or choose a topic.",
            "fr": "Je peux lire seulement du texte et des positions. Écrivez votre question "
            "en quelques mots, ou choisissez un sujet.",
            "ht": "Mwen ka li sèlman tèks ak pozisyon. Ekri kesyon ou an kèk mo, oswa chwazi "
            "yon sijè.",
        }[lang]
    )
    assert _buttons(reply)


@pytest.mark.parametrize("lang", LANGS)
def test_deep_link_opens_the_answer_in_its_language(emulator: LocalTelegram, lang: str) -> None:
    user = _person(emulator, "es")
    emulator.send_command(user, "start", f"asylum_mexico-{lang}")
    [answer] = emulator.wait_for_messages(user)
    assert answer["text"] == shown_answer("asylum_mexico", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_forget_asks_then_deletes(emulator: LocalTelegram, lang: str) -> None:
    user = _person(emulator, lang)
    emulator.send_command(user, "forget")
    [question] = emulator.wait_for_messages(user)
    assert question["text"] == shown_answer("forget_me", lang)
    emulator.press_button(
        user, question, data=question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    [done] = emulator.wait_for_messages(user)
    assert done["text"] in {
        "Listo. Borré todo lo que tenía guardado sobre usted.",
        "Done. I deleted everything I had saved about you.",
        "C'est fait. J'ai effacé tout ce que j'avais gardé sur vous.",
        "Fini. Mwen efase tout sa m te kenbe sou ou.",
    }


@pytest.mark.parametrize("lang", LANGS)
def test_forged_button_gets_expired_and_the_menu(emulator: LocalTelegram, lang: str) -> None:
    user = _person(emulator, lang)
    emulator.send_command(user, "menu")
    [menu] = emulator.wait_for_messages(user)
    query = emulator.press_button(user, menu, data="a:emergency~forgedsig", forge=True)
    [reply] = emulator.wait_for_messages(user)
    assert reply["text"] in {
        "Este botón ya no funciona. Aquí está el menú:",
        "This button has expired. Here is the menu:",
        "Ce bouton a expiré. Voici le menu :",
        "Bouton sa a pa mache ankò. Men meni an:",
    }
    assert emulator.callback_answer(query["id"]) is not None


def test_edited_message_is_answered_as_a_new_question(emulator: LocalTelegram) -> None:
    user = _person(emulator, "en")
    sent = emulator.send_text(user, "hello")
    emulator.wait_for_messages(user)
    emulator.edit_text(user, sent["message_id"], "what is cbp one")
    [answer] = emulator.wait_for_messages(user)
    assert answer["text"] == shown_answer("cbp_one_about", "en")


def test_in_a_group_the_bot_says_once_it_answers_in_private_then_stays_silent(
    emulator: LocalTelegram,
) -> None:
    user = _person(emulator, "en")
    group = emulator.group("Shelter group", members=[user], bot_status="left")
    group_id = group["id"]
    # As an administrator the bot receives every message of the group: it must still be silent.
    emulator.add_bot_to_group(group_id, by_user_id=user, status="administrator")
    [notice] = emulator.wait_for_messages(group_id)
    assert "private" in notice["text"]
    emulator.send_text(user, "where is the huixtla center", chat_id=group_id)
    with pytest.raises(TimeoutError):  # handled already: nothing was sent
        emulator.wait_for_messages(group_id, timeout=0)
    to_group = [c["method"] for c in emulator.calls() if c["params"].get("chat_id") == group_id]
    assert to_group == ["sendMessage"]  # the notice, and nothing else ever


def test_the_bot_process_long_polls_answers_announces_its_commands_and_logs_no_text(
    tmp_path: Path,
) -> None:
    """The smoke test of the real process over HTTP: long polling, a question in each
    language, the command menus of post_init, and a DEBUG log with no text and no token."""
    log = tmp_path / "bot.log"
    with run_emulator() as emulator:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "LOG_LEVEL": "DEBUG",  # the most a deployer can ask for: still no text, no token
        }
        with log.open("w") as stream:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, stderr=stream
            )
        try:
            emulator.wait_for_poller(timeout=60)
            for lang, (text, intent) in TYPO_QUESTIONS.items():
                user = _person(emulator, lang)
                emulator.send_text(user, text)
                answer = emulator.wait_for_messages(user, timeout=30)[0]
                assert answer["text"] == shown_answer(intent, lang)
            user = _person(emulator, "es")
            emulator.send_text(user, "mi secreto personal es azul")
            emulator.wait_for_messages(user, timeout=30)
            by_language = {c["language_code"]: c["commands"] for c in emulator.commands()}
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert {"es", "en", "fr", "ht"} <= set(by_language)
    assert [c["command"] for c in by_language["ht"]] == [
        "menu",
        "language",
        "human",
        "help",
        "forget",
    ]
    assert by_language["fr"][2]["description"] == "Parler à une personne"
    text = log.read_text()
    assert "secreto personal" not in text
    assert emulator.token not in text
    assert emulator.token.split(":")[1] not in text
