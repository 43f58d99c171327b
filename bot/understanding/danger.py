"""Finds the danger expressions of `content/danger.yaml` in a message.

This is deliberately not the intent matcher: it is a recall-first net that runs on every text,
whatever the matcher ranks first, so a story that mentions CBP One and a kidnapping still gets
the emergency numbers. Every language's list is read on every message (people mix languages),
each with its own spellings; look-alikes ("me muero de hambre") are cut out first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.content.catalog import Danger
from bot.content.expressions import GAP, Term, is_year, parse_expression
from bot.languages import LANGUAGES, Lang
from bot.understanding.normalize import Normalizer

FUZZY_FROM = 5  # words this long also match with one typo ("secuestraron" ~ "secuestaron")
MAX_CHARS = 4096  # a whole Telegram message: danger buried at the end of a story counts
_CUT = None  # where a look-alike was cut out: no expression spans it


@dataclass(frozen=True)
class DangerMatch:
    kind: str
    language: Lang
    expression: str


@dataclass(frozen=True)
class _Expression:
    text: str
    terms: tuple[Term, ...]
    kind: str


class _Patterns:
    """One language's expressions, indexed by their first word so that a message is read
    once, not once per expression."""

    def __init__(self, expressions: Sequence[_Expression]) -> None:
        self.expressions = expressions
        self._by_first: dict[tuple[str, bool], list[_Expression]] = defaultdict(list)
        for expression in expressions:
            first = expression.terms[0]
            self._by_first[first.text, first.prefix].append(expression)
        self._stems: dict[str, list[str]] = defaultdict(list)  # by their first two letters
        for text, prefix in self._by_first:
            if prefix:
                self._stems[text[:2]].append(text)
        self._long_words = [
            t for t, p in self._by_first if not p and len(t) >= FUZZY_FROM and not is_year(t)
        ]
        self._years = [t for t, p in self._by_first if not p and is_year(t)]
        # Messages share most of their words: each word is looked up once per list.
        self._firsts = lru_cache(maxsize=50_000)(self._firsts_of)

    def find(
        self, tokens: Sequence[str | None], fuzzy: bool
    ) -> tuple[_Expression, int, int] | None:
        """The first expression found and the span of tokens it covers; `fuzzy` also
        forgives one typo in long words."""
        for start, token in enumerate(tokens):
            if token is None:
                continue
            for first in self._firsts(token, fuzzy):
                for expression in self._by_first[first]:
                    end = _match_from(expression.terms, tokens, start, fuzzy)
                    if end is not None:
                        return expression, start, end
        return None

    def _firsts_of(self, token: str, fuzzy: bool) -> tuple[tuple[str, bool], ...]:
        found = [(token, False)] if (token, False) in self._by_first else []
        if is_year(token):
            found += [(year, False) for year in self._years if year != token]
        found += [
            (stem, True) for stem in self._stems.get(token[:2], ()) if _starts(token, stem, fuzzy)
        ]
        if fuzzy and len(token) >= FUZZY_FROM - 1:
            near = process.extract(
                token, self._long_words, scorer=Levenshtein.distance, score_cutoff=1, limit=None
            )
            found += [(word, False) for word, _distance, _index in near if word != token]
        return tuple(found)


class DangerDetector:
    """`find(text)` is the first danger expression in the text, in any of the languages."""

    def __init__(self, danger: Danger | None, normalizer: Normalizer) -> None:
        self._normalizer = normalizer
        self._danger: dict[Lang, _Patterns] = {}
        self._look_alikes: dict[Lang, _Patterns] = {}
        self._cries: dict[Lang, _Patterns] = {}
        pasts: dict[Lang, list[_Expression]] = {}
        for lang in LANGUAGES:
            found = [
                self._expression(text, lang, kind.id)
                for kind in (danger.kinds if danger else [])
                for text in kind.expressions.get(lang, [])
            ]
            self._danger[lang] = _Patterns(found)
            # Danger told as the past is cut out like a look-alike ("me asaltaron hace dos
            # años en honduras, por eso pedí refugio").
            past = _both_orders(danger.past.get(lang, [])) if danger else []
            figures = danger.not_danger.get(lang, []) if danger else []
            pasts[lang] = [self._expression(t, lang, "") for t in past]
            cries = danger.cries.get(lang, []) if danger else []
            self._cries[lang] = _Patterns([self._expression(t, lang, "") for t in cries])
            self._look_alikes[lang] = _Patterns(
                [*(self._expression(t, lang, "") for t in figures), *pasts[lang]]
            )
        # Each language's list is read with the other languages' past too (see find).
        self._others_past = {
            lang: _Patterns([e for other in LANGUAGES if other != lang for e in pasts[other]])
            for lang in LANGUAGES
        }

    def _expression(self, text: str, lang: Lang, kind: str) -> _Expression:
        """An expression spelled as messages are after the lexicon ("m vle mouri" is read
        "mwen vle mouri"), so staff may write either."""
        words: list[str] = []
        plain: list[str] = []
        for word in [*text.split(), GAP]:
            if word == GAP or word.endswith("*"):
                words += self._normalizer.tokens(" ".join(plain), lang) if plain else []
                plain = []
                words.append(word)
            else:
                plain.append(word)
        return _Expression(text, parse_expression(" ".join(words[:-1])), kind)

    def find(self, text: str) -> DangerMatch | None:
        """Exact words first in every language, then with typos forgiven, so that "me quiere
        matar" is a threat, not one letter away from "me quiero matar"."""
        read = []
        for lang in LANGUAGES:
            tokens: list[str | None] = list(self._normalizer.tokens(text, lang, MAX_CHARS))
            self._cut_look_alikes(lang, tokens)
            read.append((lang, tokens))
        if self._first(read) is None:
            return None
        # Every language's past too, word for word: "kidnap*" is in the French list as well,
        # and an English past story ("i was kidnapped .. in 2022") must not be danger in
        # French. Not their figures of speech, nor with typos forgiven: Creole "raison" would
        # cut French "maison". Only once danger is found: most messages have none.
        for lang, tokens in read:
            _cut(self._others_past[lang], tokens, fuzzy=False)
        return self._first(read)

    def is_cry(self, text: str) -> bool:
        """Whether the whole text is only a call for help ("ayudaaa x favor", "help me
        please"), typos forgiven, in any language."""
        for lang in LANGUAGES:
            tokens = self._normalizer.tokens(text, lang, MAX_CHARS)
            if tokens and any(
                _match_from(cry.terms, tokens, 0, fuzzy=True) == len(tokens)
                for cry in self._cries[lang].expressions
            ):
                return True
        return False

    def _first(self, read: list[tuple[Lang, list[str | None]]]) -> DangerMatch | None:
        for fuzzy in (False, True):
            for lang, tokens in read:
                found = self._danger[lang].find(tokens, fuzzy)
                if found is not None:
                    expression = found[0]
                    return DangerMatch(expression.kind, lang, expression.text)
        return None

    def without_look_alikes(self, words: Sequence[str], lang: Lang | None) -> list[str]:
        """A message's tokens (normalised in `lang`'s spellings) with its look-alikes cut out
        (every language's when `lang` is unknown): what the danger score reads, so that "i'm
        dying to know if..." is no more danger to the score than to the expressions."""
        tokens: list[str | None] = list(words)
        for each in LANGUAGES if lang is None else (lang,):
            self._cut_look_alikes(each, tokens)
        return [token for token in tokens if token is not None]

    def _cut_look_alikes(self, lang: Lang, tokens: list[str | None]) -> None:
        _cut(self._look_alikes[lang], tokens, fuzzy=True)


def _cut(patterns: _Patterns, tokens: list[str | None], fuzzy: bool) -> None:
    """Cuts every span where one of `patterns` is found out of `tokens`."""
    if not patterns.expressions:
        return
    while (found := patterns.find(tokens, fuzzy)) is not None:
        _expression, start, end = found
        tokens[start:end] = [_CUT] * (end - start)


def _both_orders(expressions: Sequence[str]) -> list[str]:
    """Past entries as written and, those of two parts, the other way round: when it
    happened may be told before or after what happened ("me robaron .. el mes pasado" is
    also "el mes pasado .. me robaron"), and staff should not have to write both."""
    found = dict.fromkeys(expressions)
    for expression in expressions:
        parts = expression.split(f" {GAP} ")
        if len(parts) == 2:
            found.setdefault(f"{parts[1]} {GAP} {parts[0]}")
    return list(found)


def _match_from(
    terms: Sequence[Term], tokens: Sequence[str | None], start: int, fuzzy: bool
) -> int | None:
    """The end of the span where `terms` match from `start`, or None."""
    if not _term_matches(terms[0], tokens[start], fuzzy):
        return None
    if len(terms) == 1:
        return start + 1
    following = terms[1]
    for position in range(start + 1, min(len(tokens), start + 2 + following.gap_before)):
        if tokens[position] is None:
            return None
        end = _match_from(terms[1:], tokens, position, fuzzy)
        if end is not None:
            return end
    return None


def _term_matches(term: Term, token: str | None, fuzzy: bool) -> bool:
    if token is None:
        return False
    return _starts(token, term.text, fuzzy) if term.prefix else _same(token, term.text, fuzzy)


def _same(token: str, word: str, fuzzy: bool) -> bool:
    if token == word or (is_year(word) and is_year(token)):
        return True
    if not fuzzy or len(word) < FUZZY_FROM or abs(len(token) - len(word)) > 1:
        return False
    return Levenshtein.distance(token, word, score_cutoff=1) <= 1


def _starts(token: str, stem: str, fuzzy: bool) -> bool:
    """`token` begins with `stem`, allowing one typo in a long stem when `fuzzy`."""
    if token.startswith(stem):
        return True
    if not fuzzy or len(stem) < FUZZY_FROM:
        return False
    return any(
        Levenshtein.distance(token[:size], stem, score_cutoff=1) <= 1
        for size in (len(stem) - 1, len(stem), len(stem) + 1)
        if size <= len(token)
    )
