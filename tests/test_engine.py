"""The engine's behaviours, as short conversations."""

from __future__ import annotations

import pytest

from bot.content.catalog import Catalog
from bot.dialog.engine import Engine
from bot.dialog.events import (
    ButtonEvent,
    Command,
    HandoffReason,
    MediaEvent,
    MediaKind,
    TextEvent,
)
from bot.languages import LANGUAGES
from tests.dialog import Person, buttons, texts

QUESTIONS = {
    "es": "como saco una cita en cbp one",
    "en": "how can i get an appointment in cbp one",
    "fr": "comment prendre rendez vous sur cbp one",
    "ht": "kijan m ka jwenn yon randevou nan cbp one",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_question_gets_its_answer_in_its_language_with_related_buttons(
    engine: Engine, catalog: Catalog, lang: str
) -> None:
    person = Person(engine)
    outcome = person.says(QUESTIONS[lang])
    intent = catalog.intents["cbp_one_schedule"]
    assert outcome.understanding and outcome.understanding.intent == "cbp_one_schedule"
    assert texts(outcome)[0] == engine.answer_text(intent.id, lang)
    labels = [b.label for b in buttons(outcome)]
    for related in intent.related:
        assert catalog.intents[related].title[lang] in labels
    assert person.state.language == lang


def test_start_greets_in_the_app_language_with_language_buttons_and_menu(
    engine: Engine, catalog: Catalog
) -> None:
    person = Person(engine, client_language="fr-FR")
    outcome = person.command(Command.START)
    assert texts(outcome)[0] == engine.answer_text("greeting", "fr")
    labels = [b.label for b in buttons(outcome)]
    assert {"Español", "English", "Français", "Kreyòl"} <= set(labels)
    assert any("CBP One" in label for label in labels)


def test_start_without_any_hint_is_spanish(engine: Engine, catalog: Catalog) -> None:
    outcome = Person(engine).command(Command.START)
    assert texts(outcome)[0] == engine.answer_text("greeting", "es")


def test_language_button_switches_and_is_remembered(engine: Engine, catalog: Catalog) -> None:
    person = Person(engine, client_language="es")
    person.command(Command.START)
    outcome = person.presses("Kreyòl")
    assert texts(outcome)[0] == "M ap reponn ou an kreyòl."
    assert person.state.language == "ht" and person.state.language_chosen
    # A chosen language holds even when the person then writes in another one.
    outcome = person.says("donde esta el centro de tapachula")
    assert texts(outcome)[0] == engine.answer_text("center_tapachula", "ht")


def test_language_command_offers_the_four_languages(engine: Engine) -> None:
    outcome = Person(engine).command(Command.LANGUAGE)
    assert [b.label for b in buttons(outcome)] == ["Español", "English", "Français", "Kreyòl"]


@pytest.mark.parametrize("word", ["hola", "bonjou", "cita?", "ok"])
def test_one_or_two_words_do_not_flip_a_known_language(engine: Engine, word: str) -> None:
    person = Person(engine)
    person.says("where can i find the care center in tapachula")
    assert person.state.language == "en"
    person.says(word)
    assert person.state.language == "en"


def test_a_longer_message_in_another_language_switches_a_guessed_language(engine: Engine) -> None:
    person = Person(engine)
    person.says("where can i find the care center in tapachula")
    person.says("mwen bezwen konnen kijan pou m jwenn transfè a")
    assert person.state.language == "ht"


def test_unclear_message_offers_did_you_mean_buttons(engine: Engine) -> None:
    person = Person(engine, client_language="es")
    outcome = person.says("cita")  # an appointment: which of the CBP One questions?
    assert outcome.understanding and outcome.understanding.intent is None
    assert 2 <= len(outcome.understanding.suggestions) <= 3
    titles = [b.label for b in buttons(outcome)]
    assert len(titles) == len(outcome.understanding.suggestions) + 1  # + talk to a person
    answered = person.send(ButtonEvent(buttons(outcome)[0].data))
    assert answered.replies and not answered.unanswered


def test_nonsense_is_recorded_as_unanswered_with_menu_and_a_human(engine: Engine) -> None:
    outcome = Person(engine, client_language="en").says("qwertyuiop zxcvbnm plok")
    assert outcome.unanswered
    assert outcome.understanding and outcome.understanding.intent is None
    labels = [b.label for b in buttons(outcome)]
    assert "🙋 Talk to a person" in labels and any("CBP One" in label for label in labels)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("es", "me estan siguiendo ayuda"),
        ("en", "someone is following me please help"),
        ("fr", "on m a vole et frappe je suis blesse"),
        ("ht", "gen moun k ap swiv mwen m pe"),
    ],
)
def test_emergency_gets_the_numbers_first_and_an_urgent_handoff(
    engine: Engine, lang: str, text: str
) -> None:
    outcome = Person(engine).says(text)
    assert "911" in texts(outcome)[0][:120]
    assert outcome.handoff is not None and outcome.handoff.urgent
    assert outcome.handoff.reason is HandoffReason.EMERGENCY


def test_emergency_wins_over_a_pending_question(engine: Engine) -> None:
    person = Person(engine, client_language="es")
    person.command(Command.FORGET)
    outcome = person.says("me quieren secuestrar ayuda")
    assert "911" in texts(outcome)[0][:120]
    assert person.state.pending is None


def test_talk_to_human_starts_a_handoff(engine: Engine) -> None:
    outcome = Person(engine, client_language="es").command(Command.HUMAN)
    assert outcome.handoff is not None and not outcome.handoff.urgent
    assert outcome.handoff.reason is HandoffReason.ASKED


def test_location_lists_the_nearest_places_nearest_first_with_distance(engine: Engine) -> None:
    outcome = Person(engine, client_language="en").shares_location(15.0, -92.263)  # ~10 km N
    lines = texts(outcome)[0].splitlines()
    assert lines[0].startswith("The nearest places I know of")
    assert lines[1].startswith("1. ") and "about 11 km, in Tapachula" in lines[1]
    assert len(lines) == 5  # the four open places, all in Tapachula


def test_care_center_answers_offer_to_share_location(engine: Engine) -> None:
    outcome = Person(engine, client_language="en").says("where are the care centers")
    assert any(getattr(r, "location_button", None) for r in outcome.replies)


def test_forget_asks_first_then_forgets(engine: Engine) -> None:
    person = Person(engine, client_language="en")
    person.says("hello")
    outcome = person.command(Command.FORGET)
    assert not outcome.forget and person.state.pending == "confirm_forget"
    outcome = person.presses("Yes")
    assert outcome.forget and person.state.language is None


def test_forget_can_be_declined(engine: Engine) -> None:
    person = Person(engine, client_language="en")
    person.says("delete my data please")
    outcome = person.presses("No")
    assert not outcome.forget and person.state.pending is None


def test_deep_link_opens_the_answer_in_its_language(engine: Engine, catalog: Catalog) -> None:
    person = Person(engine, client_language="es")
    outcome = person.command(Command.START, "cbp_one_status-ht")
    assert texts(outcome)[0] == engine.answer_text("cbp_one_status", "ht")
    assert person.state.language == "ht"


@pytest.mark.parametrize("lang", ["es", "en", "fr", "ht"])
def test_an_emergency_deep_link_shows_the_numbers_but_opens_no_ticket(
    engine: Engine, lang: str
) -> None:
    """A shared link or a QR code must not flood the staff group: the person's own press
    asks for a person."""
    person = Person(engine, client_language="es")
    outcome = person.command(Command.START, f"emergency-{lang}")
    assert texts(outcome)[0] == engine.answer_text("emergency", lang)
    assert "911" in texts(outcome)[0] and outcome.handoff is None
    assert person.presses("🙋").handoff is not None


@pytest.mark.parametrize("lang", ["es", "en", "fr", "ht"])
def test_a_deep_link_to_a_person_offers_the_button_instead_of_opening_a_ticket(
    engine: Engine, lang: str
) -> None:
    person = Person(engine, client_language="es")
    outcome = person.command(Command.START, f"talk_to_human-{lang}")
    assert outcome.handoff is None and person.state.language == lang
    assert "911" in texts(outcome)[0]
    assert texts(outcome)[0] != engine.answer_text("talk_to_human", lang)  # no false promise
    handoff = person.presses("🙋").handoff
    assert handoff is not None and handoff.reason.value == "asked"


@pytest.mark.parametrize("payload", ["nope-xx", "cbp_one_status-de", "../../etc", "x" * 300])
def test_bad_deep_link_falls_back_to_the_welcome(
    engine: Engine, catalog: Catalog, payload: str
) -> None:
    outcome = Person(engine, client_language="en").command(Command.START, payload)
    assert texts(outcome)[0] == engine.answer_text("greeting", "en")


@pytest.mark.parametrize(
    "data", ["a:emergency", "a:emergency~AAAAAAAAAA", "", "~", "zz:1~x", "a:nope~123"]
)
def test_forged_buttons_get_expired_and_the_menu(engine: Engine, data: str) -> None:
    outcome = Person(engine, client_language="en").send(ButtonEvent(data))
    assert texts(outcome)[0] == "This button has expired. Here is the menu:"


def test_a_button_sent_to_one_person_does_not_work_for_another(engine: Engine) -> None:
    alice = Person(engine, user_id=1, client_language="en")
    alice.command(Command.MENU)
    stolen = alice.button("CBP One").data
    outcome = Person(engine, user_id=2, client_language="en").send(ButtonEvent(stolen))
    assert texts(outcome)[0] == "This button has expired. Here is the menu:"


def test_topic_button_opens_its_questions(engine: Engine, catalog: Catalog) -> None:
    person = Person(engine, client_language="en")
    person.command(Command.MENU)
    outcome = person.presses("CBP One")
    labels = [b.label for b in buttons(outcome)]
    assert catalog.intents["cbp_one_status"].title["en"] in labels
    outcome = person.presses(catalog.intents["cbp_one_status"].title["en"])
    assert texts(outcome)[0] == engine.answer_text("cbp_one_status", "en")


@pytest.mark.parametrize("kind", list(MediaKind))
def test_media_gets_a_kind_reply_and_the_menu(engine: Engine, kind: MediaKind) -> None:
    outcome = Person(engine, client_language="fr").send(MediaEvent(kind))
    assert texts(outcome)[0].startswith("Je peux lire seulement")
    assert len(buttons(outcome)) >= 5


def test_unknown_command_shows_the_menu(engine: Engine) -> None:
    outcome = Person(engine, client_language="ht").command(None, "")
    assert texts(outcome)[0] == "Mwen pa konnen kòmand sa a. Men sa m ka fè:"


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "?!?!", "a" * 5000])
def test_empty_or_odd_text_gets_a_clear_reply(engine: Engine, text: str) -> None:
    outcome = Person(engine, client_language="en").send(TextEvent(text))
    assert outcome.replies and texts(outcome)[0]


def test_every_reply_offers_a_way_forward(engine: Engine) -> None:
    person = Person(engine, client_language="en")
    for text in ("hello", "thanks", "is cbp one still working", "asdfgh", "help"):
        outcome = person.says(text)
        assert buttons(outcome), text


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        # (A bus fare to another state is travel_in_mexico since INTENTS.md v2.)
        ("es", "cuanto cobra un taxi de tapachula a puerto madero para ir a la playa"),
        ("en", "where i can change dollars to pesos in tapachula"),
        ("fr", "ou je peux recevoir de l argent par western union"),
        ("ht", "kote m ka achte kat sim pou telefon mwen"),
    ],
)
def test_questions_like_the_out_of_scope_examples_are_not_answered(
    engine: Engine, lang: str, text: str
) -> None:
    outcome = Person(engine, client_language=lang).says(text)
    assert outcome.understanding and outcome.understanding.intent is None
    assert outcome.unanswered
