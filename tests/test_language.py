"""Language detection for our four languages, with French and Creole tested hard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.understanding.language import LanguageDetector
from bot.understanding.reader import Reader

FRENCH_CREOLE_PAIRS = [
    ("je ne sais pas ou aller avec mes enfants", "mwen pa konnen ki kote pou m ale ak pitit mwen"),
    ("ou se trouve le centre de tapachula", "ki kote sant tapachula a ye"),
    ("merci beaucoup pour votre aide", "mesi anpil pou ed ou"),
    ("je veux parler avec une personne", "mwen vle pale ak yon moun"),
    ("est ce que le transfert est gratuit", "eske transfe a gratis"),
    ("comment demander l asile au mexique", "kijan pou m mande azil nan meksik"),
    ("jsuis perdu aidez moi svp", "m pedi ede m souple"),
    ("on m a vole mon telephone", "yo vole telefon mwen"),
    ("c est quoi cbp one", "kisa cbp one ye"),
    ("bonjour j ai une question sur le rendez vous", "bonjou m gen yon kesyon sou randevou a"),
]
OTHERS = [
    ("donde queda el albergue para familias", "es"),
    ("necesito ayuda con mi cita de cbp one", "es"),
    ("where can i sleep tonight with my kids", "en"),
    ("please i need help for appointment", "en"),
]


@pytest.fixture(scope="module")
def detector(engine) -> LanguageDetector:  # type: ignore[no-untyped-def]
    return engine.reader.detector


@pytest.mark.parametrize(("french", "creole"), FRENCH_CREOLE_PAIRS)
def test_french_and_creole_are_told_apart(
    detector: LanguageDetector, french: str, creole: str
) -> None:
    assert detector.detect(french).language == "fr"  # type: ignore[union-attr]
    assert detector.detect(creole).language == "ht"  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "lang"), OTHERS)
def test_spanish_and_english_are_recognised(
    detector: LanguageDetector, text: str, lang: str
) -> None:
    assert detector.detect(text).language == lang  # type: ignore[union-attr]


def test_one_word_is_marked_short_and_text_without_words_has_no_language(
    detector: LanguageDetector,
) -> None:
    detection = detector.detect("bonjou")
    assert detection is not None and detection.is_short
    assert detector.detect("🙂 ?!") is None


@pytest.mark.parametrize("typed", ["multiservicios", "multiservisios", "MULTISERVICIOS"])
def test_misspelled_place_names_are_recognised_as_places(reader: Reader, typed: str) -> None:
    assert reader.read(f"donde esta el centro {typed}", None).match.places == ("center_tapachula",)


def test_a_town_with_several_kinds_of_place_names_no_single_place(reader: Reader) -> None:
    """Tapachula has an asylum office, shelters and a clinic: the town says where, not what."""
    assert reader.read("donde esta el centro de tapachula", None).match.places == ()


@pytest.fixture(scope="module")
def reader(engine) -> Reader:  # type: ignore[no-untyped-def]
    return engine.reader


def test_the_four_language_model_ranks_as_py3langid_restricted_to_them() -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from bot.languages import LANGUAGES
    from bot.understanding.language import _four_language_identifier

    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    full.set_languages(list(LANGUAGES))
    ours = _four_language_identifier()
    assert ours.nb_ptc.shape[1] == len(LANGUAGES)
    for text in ("kijan pou m jwenn transfe a", "où est le centre", "HOLA", "", "🙂", "cbp one"):
        assert ours.rank(text) == full.rank(text)
    # Every labelled message of the tests (evaluation, dev, hard...): the eval's language
    # figures are py3langid's own.
    texts = [
        json.loads(line)["text"]
        for path in sorted((PROJECT_ROOT / "tests" / "data").rglob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert [ours.rank(t) for t in texts] == [full.rank(t) for t in texts]


def test_the_four_language_model_keeps_only_the_automaton_our_languages_reach() -> None:
    from bot.understanding.language import _four_language_identifier

    ours = _four_language_identifier()
    size = len(ours.tk_nextmove) * ours.tk_nextmove.itemsize
    assert size < 16_000_000  # py3langid's whole automaton is 39 MB


def test_the_four_language_model_is_kept_in_the_cache_and_loads_back_the_same(
    tmp_path: Path,
) -> None:
    from bot.understanding.language import _cached_identifier, _four_language_identifier
    from bot.understanding.model_cache import ModelCache

    cache = ModelCache(tmp_path)
    derived = _cached_identifier(cache)
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == ["language"]
    loaded = _cached_identifier(cache)
    assert loaded is not derived
    for text in ("kijan pou m jwenn transfe a", "where is the shelter", "dónde está"):
        assert loaded.rank(text) == derived.rank(text) == _four_language_identifier().rank(text)
