"""UI sentences in four languages from the gettext catalogs in `locales/` (Babel).

Compiled `.mo` files are used when the build made them and they are up to date; otherwise the
`.po` file is read directly, so a fresh checkout still speaks every language.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.languages import LANGUAGES, Lang

DOMAIN = "messages"
Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Marks a sentence for `make i18n` where it is defined; `_()` translates it where used."""
    return message


class UiText:
    """Holds one translation catalog per language; `for_language` gives its gettext."""

    def __init__(self, locales_dir: Path) -> None:
        self._catalogs: dict[str, NullTranslations] = {
            lang: _load(locales_dir, lang) for lang in LANGUAGES
        }

    def for_language(self, lang: Lang) -> Gettext:
        return self._catalogs[lang].gettext


def _load(locales_dir: Path, lang: str) -> NullTranslations:
    folder = locales_dir / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
