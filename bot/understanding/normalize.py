"""Turns what people type into the tokens the matcher compares.

Accents are removed for matching only (answers keep theirs); SMS spellings and spelling variants
are folded by each language's lexicon (content/lexicon/*.yaml), never by lists in code. Emoji
become words of their own ("👋" -> "emojiwavinghandsign"), so a greeting or a thanks sent as
an emoji is read like the content's emoji examples.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from bot.content.catalog import Lexicon

_REPEATS = re.compile(r"([a-z])\1{2,}")  # "holaaaa" -> "hola", "pleeease" -> "please"
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_DIGIT_WORD = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")  # "cbp1" -> "cbp 1"
MAX_CHARS = 1000  # longer messages are cut: the question is rarely past this point


def fold(text: str, limit: int = MAX_CHARS, emoji: bool = False) -> str:
    """Lowercases, strips accents, punctuation and emoji (or, with `emoji`, spells each one
    as a word); keeps letters, digits and spaces (of the first `limit` characters)."""
    # NFKD splits "ò" into "o" and a combining accent; dropping what is not ASCII then removes
    # accents, emoji and foreign punctuation in one step (our four languages are Latin script).
    text = text[:limit].casefold()
    text = unicodedata.normalize("NFKD", _spell_emoji(text) if emoji else text)
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _NOT_WORD.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    return text.strip()


def _spell_emoji(text: str) -> str:
    if text.isascii():
        return text
    return "".join(_emoji_word(ch) if _is_emoji(ch) else ch for ch in text)


def _is_emoji(character: str) -> bool:
    # Symbols from the miscellaneous-symbols block on (☀, ❤, 👋, 🙏); skin tones and
    # joiners are modifiers, not symbols, and vanish with the accents.
    return character >= "\u2600" and unicodedata.category(character) == "So"


@lru_cache(maxsize=4096)
def _emoji_word(symbol: str) -> str:
    """An emoji as a word: "emoji" and the letters of its Unicode name."""
    name = unicodedata.name(symbol, "")
    return f" emoji{''.join(c for c in name.lower() if c.isalpha())} " if name else " "


class Normalizer:
    """Folds text and applies one language's lexicon (plus the shared one)."""

    def __init__(self, lexicons: Mapping[str, Lexicon]) -> None:
        shared = lexicons.get("all")
        shared_words = _words(shared.replacements) if shared else {}
        shared_phrases = _Phrases(shared.replacements if shared else {})
        self._words: dict[str, dict[str, list[str]]] = {}
        self._phrases: dict[str, _Phrases] = {}
        self._stopwords: dict[str, frozenset[str]] = {}
        for lang, lexicon in lexicons.items():
            if lang == "all":
                continue
            self._words[lang] = {**shared_words, **_words(lexicon.replacements)}
            self._phrases[lang] = _Phrases(
                {**shared.replacements, **lexicon.replacements} if shared else lexicon.replacements
            )
            self._stopwords[lang] = frozenset(fold(w) for w in lexicon.stopwords)
        self._shared_words = shared_words
        self._shared_phrases = shared_phrases

    def tokens(self, text: str, lang: str | None, limit: int = MAX_CHARS) -> list[str]:
        """All tokens after spelling folding, stop words included."""
        folded = _DIGIT_WORD.sub(" ", fold(text, limit, emoji=True))
        words = self._words.get(lang or "", self._shared_words)
        phrases = self._phrases.get(lang or "", self._shared_phrases)
        out: list[str] = []
        for token in folded.split():
            out.extend(words.get(token, (token,)))
        return phrases.apply(" ".join(out)).split()

    def content_tokens(self, text: str, lang: str | None) -> list[str]:
        """Tokens that carry meaning: stop words of the language removed."""
        stop = self._stopwords.get(lang or "", frozenset())
        return [t for t in self.tokens(text, lang) if t not in stop]


def _words(replacements: Mapping[str, str]) -> dict[str, list[str]]:
    return {
        fold(key): fold(value).split()
        for key, value in replacements.items()
        if len(fold(key).split()) == 1
    }


class _Phrases:
    """Multi-word replacements ("cbp 1" -> "cbp one") as one regex, longest first."""

    def __init__(self, replacements: Mapping[str, str]) -> None:
        multi = {fold(k): fold(v) for k, v in replacements.items() if len(fold(k).split()) > 1}
        self._replacements = multi
        keys = sorted(multi, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None
        )

    def apply(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._replacements[m.group(0)], text)
