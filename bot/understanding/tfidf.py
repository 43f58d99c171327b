"""Fitted TF-IDF features read without scikit-learn: the numbers its `transform` gives.

Why this is hand-written rather than scikit-learn's own: importing scikit-learn and SciPy cost
every process about 70 MB and 0.8 s (bench/lean.py, the README's speed section), though they
are needed only to train. A fitted `TfidfVectorizer` (or a `FeatureUnion` of them) is copied
here once, after training, into what reading needs: its vocabulary, its idf vector and its
analyzer's settings, and a message is then read with the same analyzer in plain Python. Only
the analyzers and options the models use are supported; `from_union` refuses any other, so a
change of features cannot silently read differently. tests/test_tfidf.py holds the result equal
to scikit-learn's transform and predict_proba on every evaluation message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

ANALYZERS = ("word", "char_wb")
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's own, for char_wb


@dataclass(frozen=True, eq=False)
class Vectorizer:
    """One fitted TfidfVectorizer: the analyzer's settings, vocabulary and idf weights."""

    analyzer: str
    ngram_range: tuple[int, int]
    lowercase: bool
    token_pattern: str
    sublinear_tf: bool
    normalise: bool  # l2 norm per row (norm="l2"), or none
    # The vocabulary as its terms' UTF-8 bytes, sorted, in one fixed-width array, and each
    # term's column: a fifth of the memory of a dict of str (77k and 86k terms, two models).
    terms: np.ndarray
    columns: np.ndarray
    idf: np.ndarray

    @classmethod
    def from_fitted(cls, fitted: Any) -> Vectorizer:
        """Copies a fitted scikit-learn TfidfVectorizer; raises on options not reproduced."""
        unsupported = {
            "analyzer": fitted.analyzer not in ANALYZERS,
            "preprocessor": fitted.preprocessor is not None,
            "tokenizer": fitted.tokenizer is not None,
            "stop_words": fitted.stop_words is not None,
            "strip_accents": fitted.strip_accents is not None,
            "binary": fitted.binary,
            "use_idf": not fitted.use_idf,
            "norm": fitted.norm not in ("l2", None),
            "input": fitted.input != "content",
        }
        refused = [name for name, refuse in unsupported.items() if refuse]
        if refused:
            raise ValueError(f"TF-IDF options not reproduced without scikit-learn: {refused}")
        if fitted.analyzer == "word" and re.compile(fitted.token_pattern).groups > 1:
            raise ValueError("token_pattern with more than one group")
        vocabulary = sorted((t.encode("utf-8"), i) for t, i in fitted.vocabulary_.items())
        if any(term.endswith(b"\0") for term, _ in vocabulary):  # fixed-width bytes drop it
            raise ValueError("a term ending in NUL")
        return cls(
            analyzer=fitted.analyzer,
            ngram_range=tuple(fitted.ngram_range),
            lowercase=bool(fitted.lowercase),
            token_pattern=fitted.token_pattern,
            sublinear_tf=bool(fitted.sublinear_tf),
            normalise=fitted.norm == "l2",
            terms=np.array([term for term, _ in vocabulary], dtype=bytes),
            columns=np.array([i for _, i in vocabulary], dtype=np.int32),
            idf=np.asarray(fitted.idf_, dtype=np.float64),
        )

    @property
    def size(self) -> int:
        return len(self.idf)

    def vocabulary(self) -> Iterator[str]:
        """The terms, in byte order."""
        return (term.decode("utf-8") for term in self.terms)

    def grams(self, text: str) -> list[str]:
        """What scikit-learn's `build_analyzer()` gives for `text`."""
        if self.lowercase:
            text = text.lower()
        if self.analyzer == "char_wb":
            return _char_wb_ngrams(text, *self.ngram_range)
        return _word_ngrams(re.findall(self.token_pattern, text), *self.ngram_range)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero columns of `text`'s row (sorted) and their values."""
        width = self.terms.itemsize
        encoded = [g.encode("utf-8") for g in self.grams(text)]
        # Longer than every term, or with a NUL at the end, a gram is in no vocabulary (and
        # would be cut or stripped by the fixed width).
        keys = np.array(
            [g for g in encoded if len(g) <= width and not g.endswith(b"\0")],
            dtype=self.terms.dtype,
        )
        found = np.minimum(np.searchsorted(self.terms, keys), len(self.terms) - 1)
        known = found[self.terms[found] == keys]
        columns, counts = np.unique(self.columns[known], return_counts=True)
        columns = columns.astype(np.intp)
        values = counts.astype(np.float64)
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        values *= self.idf[columns]
        if self.normalise and len(values):
            values /= np.sqrt(values @ values)
        return columns, values


@dataclass(frozen=True, eq=False)
class Features:
    """Several vectorizers side by side, as a FeatureUnion stacks their columns."""

    parts: tuple[Vectorizer, ...]

    @classmethod
    def from_union(cls, union: Any) -> Features:
        """Copies a fitted scikit-learn FeatureUnion of TfidfVectorizers."""
        if union.transformer_weights:
            raise ValueError("FeatureUnion transformer_weights are not reproduced")
        return cls(tuple(Vectorizer.from_fitted(v) for _, v in union.transformer_list))

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """`text`'s non-zero columns and values across all parts (the union's row)."""
        columns, values, offset = [], [], 0
        for part in self.parts:
            part_columns, part_values = part.row(text)
            columns.append(part_columns + offset)
            values.append(part_values)
            offset += part.size
        return np.concatenate(columns), np.concatenate(values)

    def decision(self, texts: list[str], weights: np.ndarray) -> np.ndarray:
        """Each text's row times `weights` (features by outputs, or one weight per feature):
        what `union.transform(texts) @ weights` gives."""
        rows = []
        for text in texts:
            columns, values = self.row(text)
            rows.append(values @ weights[columns])
        return np.array(rows)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from scores, per row (as scikit-learn's `extmath.softmax`)."""
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def _char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside words padded with a space (scikit-learn's `char_wb`)."""
    grams = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:  # a word shorter than n is counted once, whole
                break
    return grams


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Tokens and runs of `low` to `high` tokens joined by spaces (scikit-learn's order)."""
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams
