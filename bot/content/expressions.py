"""The small pattern language of danger expressions in `content/danger.yaml`.

Staff write plain words; two marks cover what plain words can't: `word*` matches any word that
starts with it (verb forms: "secuestr*"), and `..` between two words lets up to
`GAP_WORDS` other words stand there ("quieren .. matar*"). A year stands for every year
("secuestr* .. en 2020" is also "me secuestraron en 2019"). Typos are forgiven by the matcher,
not written out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GAP = ".."
GAP_WORDS = 3
MIN_PREFIX = 4  # "mat*" would match half the dictionary
_WORD = re.compile(r"^[a-z0-9]+\*?$")
# 1950 to 2029, 2000 aside: it is as often an amount ("piden 2000 dolares") as a year.
_YEAR = re.compile(r"^(19[5-9][0-9]|200[1-9]|201[0-9]|202[0-9])$")


def is_year(word: str) -> bool:
    """A word that is a year of someone's life story."""
    return _YEAR.match(word) is not None


@dataclass(frozen=True)
class Term:
    """One word of an expression; `gap_before` other words may stand before it."""

    text: str
    prefix: bool = False
    gap_before: int = 0


class ExpressionError(ValueError):
    """An expression staff wrote that the matcher cannot use; the message says how to fix it."""


def parse_expression(expression: str) -> tuple[Term, ...]:
    """The terms of one expression, or ExpressionError in plain words."""
    words = expression.split()
    if not words:
        raise ExpressionError("the expression is empty; write a few words or remove the line")
    if words[0] == GAP or words[-1] == GAP:
        raise ExpressionError(f'"{GAP}" goes between two words, not at the start or the end')
    terms: list[Term] = []
    gap = 0
    for word in words:
        if word == GAP:
            if gap:
                raise ExpressionError(f'write "{GAP}" once between two words')
            gap = GAP_WORDS
            continue
        if not _WORD.match(word):
            raise ExpressionError(
                f'"{word}": write words in lowercase without accents or punctuation '
                "(a * may end a word)"
            )
        prefix = word.endswith("*")
        stem = word.rstrip("*")
        if prefix and len(stem) < MIN_PREFIX:
            raise ExpressionError(
                f'"{word}" is too short to end with *: it would match too many words; '
                f"write at least {MIN_PREFIX} letters before the *"
            )
        terms.append(Term(stem, prefix, gap))
        gap = 0
    return tuple(terms)
