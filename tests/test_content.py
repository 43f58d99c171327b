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
# Every number of three digits or more that the sources give (FACTS.md, FACTS-2026.md: 2,000 to
# 5,000 pesos for forged papers, 2,862 return requests in early 2025).
SOURCED_NUMBERS = {
    "911", "089", "1500", "140000", "2000", "2023", "2024", "2025", "2026", "2862", "5000",
}  # fmt: skip


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


# Answers that state no fact: the rest name where their facts come from.
NO_FACTS = {"greeting", "thanks", "help_menu", "talk_to_human", "change_language", "forget_me",
            "bot_about_privacy"}  # fmt: skip


def test_every_entry_names_its_sources_and_review_date(catalog: Catalog) -> None:
    for item in [*catalog.intents.values(), *catalog.places.values()]:
        assert item.sources or item.id in NO_FACTS, item.id
        assert all(s.url.startswith(("https://", "http://")) for s in item.sources), item.id
        assert item.reviewed.year >= 2026, item.id


def test_places_leave_unknown_facts_empty(catalog: Catalog) -> None:
    """No source gives a phone, hours or the exact coordinates of any place (FACTS-2026.md)."""
    for place in catalog.places.values():
        assert place.phone is None and place.hours is None
        assert place.precision == "town"


def test_no_answer_sends_families_to_huixtla_or_offers_a_bus_north(catalog: Catalog) -> None:
    """Both ended: no family center was found in Huixtla, the transfers stopped in 2025."""
    assert all("huixtla" not in p.town.lower() for p in catalog.places.values())
    for lang in LANGUAGES:
        for intent_id in ("safe_transfer_about", "safe_transfer_request"):
            assert "2025" in catalog.intents[intent_id].answer[lang], (intent_id, lang)
    assert "2025" in catalog.intents["center_huixtla"].answer["es"]
