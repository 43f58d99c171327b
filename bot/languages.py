"""The four languages the bot speaks, in the order menus show them."""

from typing import Literal, get_args

Lang = Literal["es", "en", "fr", "ht"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANGUAGE: Lang = "es"

# Shown on language buttons: each name in its own language, so anyone can find theirs.
NATIVE_NAMES: dict[Lang, str] = {
    "es": "Español",
    "en": "English",
    "fr": "Français",
    "ht": "Kreyòl",
}

# Used by `migrant-bot check` to name a language in plain words.
ENGLISH_NAMES: dict[Lang, str] = {
    "es": "Spanish",
    "en": "English",
    "fr": "French",
    "ht": "Haitian Creole",
}


def as_language(code: str | None) -> Lang | None:
    """Maps a code like 'fr-CA' or 'HT' to one of ours, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None  # type: ignore[return-value]
