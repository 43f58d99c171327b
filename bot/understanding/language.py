"""Which of our four languages a message is written in.

Two voices are combined: py3langid (a statistical identifier that knows Haitian Creole,
restricted to es/en/fr/ht) and the vocabulary of our own content, which knows how migrants
spell (kijan, mw, nesesito) where the general model has seen mostly formal text.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.content.catalog import Catalog
from bot.languages import LANGUAGES, Lang
from bot.understanding.normalize import Normalizer, fold

if TYPE_CHECKING:
    from bot.understanding.model_cache import ModelCache

# A message this short says too little to change a language once known ("hola", "cita?").
SHORT_MESSAGE_WORDS = 3
_SMOOTHING = 0.5
_UNSEEN_PENALTY = 0.15  # how much an unknown word counts against a language


@dataclass(frozen=True)
class Detection:
    """The best language, how sure we are (0..1), and how many words it was based on."""

    language: Lang
    confidence: float
    words: int
    scores: dict[Lang, float]

    @property
    def is_short(self) -> bool:
        return self.words < SHORT_MESSAGE_WORDS


class LanguageDetector:
    """Scores a message for each language; thread-safe, model loaded once on first use."""

    def __init__(self, catalog: Catalog, normalizer: Normalizer) -> None:
        self._normalizer = normalizer
        counts: dict[Lang, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
        for intent in catalog.intents.values():
            for lang in LANGUAGES:
                for text in intent.examples.get(lang, []):
                    counts[lang].update(fold(text).split())
        for lang in LANGUAGES:
            lexicon = catalog.lexicons.get(lang)
            if lexicon:
                counts[lang].update(fold(k) for k in lexicon.replacements)
                counts[lang].update(fold(w) for w in lexicon.stopwords)
        vocab = set().union(*counts.values())
        self._log_p: dict[Lang, dict[str, float]] = {}
        self._log_unseen: dict[Lang, float] = {}
        for lang in LANGUAGES:
            total = sum(counts[lang].values()) + _SMOOTHING * (len(vocab) + 1)
            self._log_p[lang] = {
                w: math.log((c + _SMOOTHING) / total) for w, c in counts[lang].items()
            }
            self._log_unseen[lang] = math.log(_SMOOTHING / total)
        self._vocab = vocab
        # Per detector, not per module: a reloaded content's detector is freed with it.
        self._cached = lru_cache(maxsize=4096)(self._detect)
        self._identifier: Any = None
        self._cache: ModelCache | None = None
        self._lock = threading.Lock()

    def keep_model_in(self, cache: ModelCache) -> None:
        """Keeps the four-language model in `cache` once derived: loading it from there takes
        a twentieth of the second that decompressing py3langid's whole model takes."""
        self._cache = cache

    def warm_up(self) -> None:
        """Loads the statistical model now rather than on the first message."""
        self._model()

    def _model(self) -> Any:
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    self._identifier = _cached_identifier(self._cache)
        return self._identifier

    def detect(self, text: str) -> Detection | None:
        """The language of `text`, or None when it holds no word at all."""
        return self._cached(text[:500])

    def _detect(self, text: str) -> Detection | None:
        words = fold(text).split()
        if not words:
            return None
        vocab_scores = self._vocabulary_scores(words)
        known = sum(1 for w in words if w in self._vocab)
        model_scores = dict(self._model().rank(text))
        # Our vocabulary knows migrants' spellings; the model knows the languages at large.
        # The fewer of the words we know, the more the model is trusted.
        trust_vocab = 0.35 + 0.4 * (known / len(words))
        combined = {
            lang: trust_vocab * vocab_scores[lang]
            + (1 - trust_vocab) * float(model_scores.get(lang, 0.0))
            for lang in LANGUAGES
        }
        best = max(combined, key=combined.__getitem__)
        return Detection(best, combined[best], len(words), combined)

    def _vocabulary_scores(self, words: list[str]) -> dict[Lang, float]:
        logs = {
            lang: sum(self._log_p[lang].get(w, self._log_unseen[lang] + _UNSEEN_PENALTY)
                      for w in words)
            for lang in LANGUAGES
        }  # fmt: skip
        top = max(logs.values())
        exp = {lang: math.exp(v - top) for lang, v in logs.items()}
        total = sum(exp.values())
        return {lang: v / total for lang, v in exp.items()}


# The UTF-8 bytes the pruned model reads: ASCII, continuation bytes, and the lead bytes of
# U+0080-U+027F (Latin-1, Latin Extended-A and -B), U+2000-U+2FFF (’ “ … and other punctuation
# and symbols) and U+10000-U+3FFFF (emoji). Our four languages are written in these; so few of
# py3langid's states are reached from them that a state fits in 16 bits.
ALPHABET = bytes([*range(0xC0), *range(0xC2, 0xCA), 0xE2, 0xF0])
_PRUNING = "latin1-2"  # in the cache key: a change of ALPHABET derives the model again


def _cached_identifier(cache: ModelCache | None) -> Any:
    """The four-language identifier from `cache` (keyed by py3langid's version), or derived."""
    if cache is None:
        return _four_language_identifier()
    from importlib.metadata import version

    from py3langid.langid import LanguageIdentifier

    key = f"py3langid-{version('py3langid')}-{'-'.join(LANGUAGES)}-{_PRUNING}"
    return cache.load_or_build("language", key, LanguageIdentifier, _four_language_identifier)


def _four_language_identifier() -> Any:
    """py3langid's identifier pruned to our four languages and to the text they are written in.

    Its own `set_languages` ranks the same way but keeps the full 142-language matrix beside
    the slice (27 MB, for a later reset), and its byte automaton (39 MB) reads every script.
    Here only our languages' columns are kept, and only the automaton's states that bytes of
    ALPHABET reach from the start: for a text of those characters the walk, the features and
    so the ranking are py3langid's own (a test compares). A byte outside it (Cyrillic, Arabic,
    CJK...) starts the walk again, so other scripts' features are not read."""
    from array import array

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    keep = [i for i, label in enumerate(classes) if label in LANGUAGES]
    table = np.frombuffer(nextmove, dtype=nextmove.typecode).reshape(-1, 256)
    rows = np.frombuffer(row, dtype=row.typecode)
    allowed = np.frombuffer(ALPHABET, dtype=np.uint8)
    reached = np.zeros(len(rows), dtype=bool)
    reached[0] = True
    frontier = np.array([0])
    while len(frontier):
        targets = np.unique(table[rows[frontier]][:, allowed])
        frontier = targets[~reached[targets]]
        reached[frontier] = True
    states = np.flatnonzero(reached)  # state 0, the start, stays first
    code = "H" if len(states) < 1 << 16 else "I"  # a state's number, 16 bits or 32
    renumber = np.zeros(len(rows), dtype=code)
    renumber[states] = np.arange(len(states))
    pruned = renumber[table[rows[states]]]
    pruned[:, np.setdiff1d(np.arange(256), allowed)] = 0  # outside ALPHABET: start again
    unique, state_row = np.unique(pruned, axis=0, return_inverse=True)
    row_code = "H" if len(unique) < 1 << 16 else "I"
    outputs = np.asarray(output)[states]
    features, feature = np.unique(outputs[outputs >= 0], return_inverse=True)
    outputs[outputs >= 0] = feature
    identifier = LanguageIdentifier(
        np.ascontiguousarray(ptc[features][:, keep]),
        np.ascontiguousarray(pc[keep]),
        [classes[i] for i in keep],
        array(code, unique.tobytes()),
        array("i", outputs.astype(np.int32).tobytes()),
        norm_probs=True,
        tk_row=array(row_code, state_row.ravel().astype(row_code).tobytes()),
    )
    # Each state's first entry in the automaton, which py3langid keeps as a list of Python
    # ints (2.4 MB): as an array, a tenth of that, read the same way by its walk.
    identifier._rowbase = array("I", (state_row.ravel().astype(np.uint32) << 8).tobytes())
    return identifier
