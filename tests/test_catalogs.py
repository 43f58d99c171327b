"""UI catalogs: every message translated in es, en, fr, ht with the same placeholders."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.config import PROJECT_ROOT
from bot.i18n import UiText
from bot.i18n_check import check_catalogs, code_messages, placeholders
from bot.languages import LANGUAGES

LOCALES = PROJECT_ROOT / "locales"


def test_every_message_is_translated_with_the_same_placeholders() -> None:
    assert check_catalogs(LOCALES) == []


def test_template_and_catalogs_hold_the_same_messages() -> None:
    with (LOCALES / "messages.pot").open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
    assert len(wanted) > 20
    for lang in LANGUAGES:
        with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
            assert {m.id for m in read_po(fp) if m.id} == wanted, lang


def test_ui_text_speaks_each_language() -> None:
    ui = UiText(LOCALES)
    answers = {lang: ui.for_language(lang)("I will answer in English.") for lang in LANGUAGES}
    assert answers["en"] == "I will answer in English."
    assert len(set(answers.values())) == 4


def _break(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    target = tmp_path / "locales"
    shutil.copytree(LOCALES, target)
    po = target / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fp:
        catalog = read_po(fp, locale="fr")
    change(catalog)
    with po.open("wb") as fp:
        write_po(fp, catalog)
    return target


def test_a_missing_translation_is_reported(tmp_path: Path) -> None:
    def blank(catalog) -> None:  # type: ignore[no-untyped-def]
        catalog["Choose a topic:"].string = ""

    [problem] = check_catalogs(_break(tmp_path, blank))
    assert problem.file.endswith("fr/LC_MESSAGES/messages.po")
    assert "no French translation" in problem.message


def test_a_changed_placeholder_is_reported(tmp_path: Path) -> None:
    def rename(catalog) -> None:  # type: ignore[no-untyped-def]
        message = next(m for m in catalog if m.id and placeholders(str(m.id)))
        message.string = "{ville} (adresse non confirmée)"

    [problem] = check_catalogs(_break(tmp_path, rename))
    assert "same {placeholders}" in problem.message


def test_every_sentence_of_the_code_is_in_the_template() -> None:
    assert set(code_messages(PROJECT_ROOT / "bot")) == _template_ids()


def _template_ids() -> set[str]:
    with (LOCALES / "messages.pot").open("rb") as fp:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}


def test_a_changed_sentence_in_the_code_is_reported_until_make_i18n(tmp_path: Path) -> None:
    """A msgid edited in the code, the catalogs left alone: Spanish users would get the
    English sentence while every catalog looks complete."""
    code = tmp_path / "bot"
    shutil.copytree(PROJECT_ROOT / "bot", code, ignore=shutil.ignore_patterns("__pycache__"))
    notices = code / "dialog" / "notices.py"
    source = notices.read_text()
    original = next(m for m in _template_ids() if f'"{m}"' in source)
    notices.write_text(source.replace(f'"{original}"', f'"{original} (new)"', 1))

    problems = check_catalogs(LOCALES, code)

    assert [(p.file.endswith("notices.py"), p.message) for p in problems] == [
        (True, "sentence not in locales/messages.pot: run make i18n, then translate it"),
        (False, "the code no longer uses this message: run make i18n to drop it"),
    ]
