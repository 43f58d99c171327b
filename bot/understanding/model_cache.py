"""Trained models kept on disk, keyed by what they were trained on.

Training takes seconds; a restart, a second webhook worker or a content edit that changes no
example (an answer's wording, a place's hours) must not pay for it again. The key is a hash of
everything training reads (examples, out-of-scope phrases, lexicons), the training code's
version and scikit-learn's, so a cached model is never used for other content. The intent
classifier is kept here as "intents-<key>"; the danger score (bot/understanding/danger_score.py)
as "danger-<key>", with a key of its own.

The files are pickles: only this bot writes the folder, and it must not be writable by others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from bot.content.catalog import Catalog
from bot.understanding.classifier import (
    ALL_EXTRAS,
    Extras,
    IntentClassifier,
    labelled_examples,
)
from bot.understanding.normalize import Normalizer

log = logging.getLogger(__name__)

# Bump when training or features change: every cached model is then trained again.
MODEL_VERSION = 6  # 6: kept as plain arrays (bot/understanding/tfidf.py)
KEPT = 4  # newest models of each kind kept in the folder; older ones are removed

Model = TypeVar("Model")


@cache
def sklearn_version() -> str:
    """scikit-learn's version, read without importing it (reading a model does not need it)."""
    return version("scikit-learn")


def training_key(catalog: Catalog, extras: Extras) -> str:
    """A hash of what the model would be trained on, and with which code."""
    material = {
        "model": MODEL_VERSION,
        "sklearn": sklearn_version(),
        "extras": repr(extras),
        "examples": [(e.text, e.lang, e.intent) for e in labelled_examples(catalog, extras)],
        "small_talk": sorted(i.id for i in catalog.intents.values() if i.small_talk),
        "lexicons": {
            lang: [sorted(lexicon.replacements.items()), sorted(lexicon.stopwords)]
            for lang, lexicon in sorted(catalog.lexicons.items())
        },
    }
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:24]


class ModelCache:
    """A folder of trained models; `folder=None` trains every time (nothing is written)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def load_or_train(
        self, catalog: Catalog, normalizer: Normalizer, extras: Extras = ALL_EXTRAS
    ) -> IntentClassifier:
        classifier = self.load_or_build(
            "intents",
            training_key(catalog, extras),
            IntentClassifier,
            lambda: IntentClassifier.train(catalog, normalizer, extras),
        )
        classifier.use(normalizer)
        return classifier

    def load_or_build(
        self, kind: str, key: str, model_type: type[Model], build: Callable[[], Model]
    ) -> Model:
        """The model of this kind and key from the folder, or `build()` stored there."""
        if self.folder is None:
            return build()
        path = self.folder / f"{kind}-{key}.pickle"
        cached = self._load(path)
        if isinstance(cached, model_type):
            return cached
        model = build()
        self._save(path, kind, model)
        return model

    def _load(self, path: Path) -> object:
        try:
            with path.open("rb") as file:
                return pickle.load(file)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a truncated or foreign file: train again, don't stop
            log.warning("cached model %s unreadable (%s); training again", path.name, exc)
            return None

    def _save(self, path: Path, kind: str, model: object) -> None:
        """Writes atomically (several workers may train at once: the last rename wins, and
        every version of the file is whole), then prunes old models of the same kind."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    pickle.dump(model, file, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, path)
            finally:
                Path(temporary).unlink(missing_ok=True)
            models = sorted(path.parent.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime)
            for old in models[:-KEPT]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("trained model not cached in %s: %s", path.parent, exc)
