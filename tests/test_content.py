"""The shipped content: complete in four languages, short, sourced, and truthful."""

from __future__ import annotations

import re

from bot.content.catalog import Catalog
from bot.content.loader import MAX_ANSWER_CHARS, REQUIRED_INTENTS
from bot.languages import LANGUAGES

TOPIC_INTENTS = [i for i in REQUIRED_INTENTS if i not in (
    "greeting", "thanks", "help_menu", "talk_to_human", "change_language", "forget_me",
)]  # fmt: skip
THOUSANDS = re.compile(r"(?<=\d)[ ,.\u00a0\u202f](?=\d{3}\b)")
NUMBER = re.compile(r"\d{3,}")
# Every number of three digits or more that the sources give (FACTS.md).
SOURCED_NUMBERS = {"911", "089", "1500", "140000", "2023", "2024", "2025"}


def test_every_required_intent_exists_in_all_four_languages(catalog: Catalog) -> None:
    for intent_id in REQUIRED_INTENTS:
        intent = catalog.intents[intent_id]
        for lang in LANGUAGES:
            assert intent.answer[lang].strip(), (intent_id, lang)
            assert intent.title[lang].strip(), (intent_id, lang)
            assert intent.examples[lang], (intent_id, lang)


def test_topic_intents_have_at_least_15_examples_per_language(catalog: Catalog) -> None:
    for intent_id in TOPIC_INTENTS:
        for lang in LANGUAGES:
            assert len(catalog.intents[intent_id].examples[lang]) >= 15, (intent_id, lang)


def test_answers_fit_a_phone_screen(catalog: Catalog) -> None:
    for intent in catalog.intents.values():
        for lang, answer in intent.answer.items():
            assert len(answer) <= MAX_ANSWER_CHARS, (intent.id, lang)


def test_emergency_answer_gives_the_numbers_first(catalog: Catalog) -> None:
    for lang in LANGUAGES:
        answer = catalog.intents["emergency"].answer[lang]
        assert "911" in answer[:120], lang
        assert "089" in answer, lang
    assert catalog.intents["emergency"].urgent


def test_no_answer_contains_a_number_that_is_not_in_the_sources(catalog: Catalog) -> None:
    for intent in catalog.intents.values():
        for lang, answer in intent.answer.items():
            numbers = set(NUMBER.findall(THOUSANDS.sub("", answer)))
            assert numbers <= SOURCED_NUMBERS, (intent.id, lang, numbers)


def test_cbp_one_answers_say_appointments_ended_in_january_2025(catalog: Catalog) -> None:
    for intent_id in ("cbp_one_schedule", "cbp_one_status", "cbp_one_have_appointment"):
        for lang in LANGUAGES:
            assert "2025" in catalog.intents[intent_id].answer[lang], (intent_id, lang)


def test_every_entry_names_its_source_and_review_date(catalog: Catalog) -> None:
    for item in [*catalog.intents.values(), *catalog.places.values()]:
        assert len(item.source) > 10, item.id
        assert item.reviewed.year >= 2025, item.id


def test_places_leave_unknown_facts_empty(catalog: Catalog) -> None:
    for place in catalog.places.values():
        assert place.address is None and place.phone is None and place.hours is None
        assert not place.coordinates_exact
