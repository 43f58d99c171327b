"""Turns what people type into the tokens the matcher compares.

Accents are removed for matching only (answers keep theirs); SMS spellings and spelling variants
are folded by each language's lexicon (content/lexicon/*.yaml), never by lists in code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from bot.content.catalog import Lexicon

_REPEATS = re.compile(r"([a-z])\1{2,}")  # "holaaaa" -> "hola", "pleeease" -> "please"
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_DIGIT_WORD = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")  # "cbp1" -> "cbp 1"
MAX_CHARS = 1000  # longer messages are cut: the question is rarely past this point


def fold(text: str) -> str:
    """Lowercases, strips accents, emoji and punctuation; keeps letters, digits and spaces."""
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS].casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("'", " ").replace("\u2019", " ")
    text = _NOT_WORD.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    return text.strip()


class Normalizer:
    """Folds text and applies one language's lexicon (plus the shared one)."""

    def __init__(self, lexicons: Mapping[str, Lexicon]) -> None:
        shared = lexicons.get("all")
        shared_words = _words(shared.replacements) if shared else {}
        shared_phrases = _phrases(shared.replacements) if shared else []
        self._words: dict[str, dict[str, list[str]]] = {}
        self._phrases: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        self._stopwords: dict[str, frozenset[str]] = {}
        for lang, lexicon in lexicons.items():
            if lang == "all":
                continue
            self._words[lang] = {**shared_words, **_words(lexicon.replacements)}
            self._phrases[lang] = _phrases(lexicon.replacements) + shared_phrases
            self._stopwords[lang] = frozenset(fold(w) for w in lexicon.stopwords)
        self._shared_words = shared_words
        self._shared_phrases = shared_phrases

    def tokens(self, text: str, lang: str | None) -> list[str]:
        """All tokens after spelling folding, stop words included."""
        folded = _DIGIT_WORD.sub(" ", fold(text))
        words = self._words.get(lang or "", self._shared_words)
        phrases = self._phrases.get(lang or "", self._shared_phrases)
        out: list[str] = []
        for token in folded.split():
            out.extend(words.get(token, (token,)))
        joined = " ".join(out)
        for pattern, replacement in phrases:
            joined = pattern.sub(replacement, joined)
        return joined.split()

    def content_tokens(self, text: str, lang: str | None) -> list[str]:
        """Tokens that carry meaning: stop words of the language removed."""
        stop = self._stopwords.get(lang or "", frozenset())
        return [t for t in self.tokens(text, lang) if t not in stop]

    def is_stopword(self, token: str, lang: str) -> bool:
        return token in self._stopwords.get(lang, frozenset())

    def stopwords(self, lang: str) -> frozenset[str]:
        return self._stopwords.get(lang, frozenset())


def _words(replacements: Mapping[str, str]) -> dict[str, list[str]]:
    return {
        fold(key): fold(value).split()
        for key, value in replacements.items()
        if len(fold(key).split()) == 1
    }


def _phrases(replacements: Mapping[str, str]) -> list[tuple[re.Pattern[str], str]]:
    """Multi-word replacements ("cbp 1" -> "cbp one"), longest first."""
    multi = [(fold(k), fold(v)) for k, v in replacements.items() if len(fold(k).split()) > 1]
    multi.sort(key=lambda kv: -len(kv[0]))
    return [(re.compile(rf"\b{re.escape(k)}\b"), v) for k, v in multi]


def vocabulary(texts: Iterable[str], normalizer: Normalizer, lang: str) -> set[str]:
    """Every content token that appears in `texts` once normalised for `lang`."""
    vocab: set[str] = set()
    for text in texts:
        vocab.update(normalizer.content_tokens(text, lang))
    return vocab
