"""Normalisation folds how people type into what the matcher compares."""

from __future__ import annotations

import pytest

from bot.content.catalog import Catalog
from bot.understanding.normalize import Normalizer, fold


@pytest.fixture(scope="module")
def normalizer(catalog: Catalog) -> Normalizer:
    return Normalizer(catalog.lexicons)


def test_fold_removes_accents_case_punctuation_emoji_and_repeats() -> None:
    assert fold("¿Dónde está el ALBERGUE?? 🙏🙏") == "donde esta el albergue"
    assert fold("holaaaaa") == "hola"
    assert fold("Kòman m ka jwenn fwontyè a") == "koman m ka jwenn fwontye a"


@pytest.mark.parametrize(
    ("lang", "typed", "expected"),
    [
        ("es", "q", ["que"]),
        ("es", "xq", ["porque"]),
        ("es", "nesesito", ["necesito"]),
        ("es", "kiero", ["quiero"]),
        ("fr", "jsuis", ["je", "suis"]),
        ("ht", "mw", ["mwen"]),
        ("en", "pls", ["please"]),
    ],
)
def test_sms_spellings_are_expanded(
    normalizer: Normalizer, lang: str, typed: str, expected: list[str]
) -> None:
    assert normalizer.tokens(typed, lang) == expected


@pytest.mark.parametrize("typed", ["cbp 1", "cbp1", "cbpone", "CBP One", "cbp-one"])
def test_cbp_one_forms_are_unified(normalizer: Normalizer, typed: str) -> None:
    assert normalizer.tokens(typed, "es") == ["cbp", "one"]


def test_creole_spelling_variants_fold_to_one_form(normalizer: Normalizer) -> None:
    forms = {tuple(normalizer.tokens(w, "ht")) for w in ("koman", "kouman", "kòman", "kijan")}
    assert len(forms) == 1
    assert normalizer.tokens("frontye", "ht") == normalizer.tokens("fwontyè", "ht")


def test_stop_words_are_dropped_for_matching_only(normalizer: Normalizer) -> None:
    assert "el" in normalizer.tokens("donde esta el albergue", "es")
    assert "el" not in normalizer.content_tokens("donde esta el albergue", "es")
    assert "donde" in normalizer.content_tokens("donde esta el albergue", "es")
