"""Content that changes while the bot runs: a reload validates first and swaps atomically, so
broken content never replaces good content and no conversation is lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.content.loader import inspect_content
from bot.content.problems import Problem, errors
from bot.dialog.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reloaded:
    """What a reload did: the version now served, and the problems that stopped it, if any."""

    changed: bool
    version: str
    intents: int
    problems: tuple[Problem, ...] = ()


class LiveContent:
    """Holds the engine for the current content; `engine` is always a complete, valid one."""

    def __init__(self, settings: Settings, engine: Engine, build: Callable[[], Engine]) -> None:
        self._settings = settings
        self._engine = engine
        self._build = build  # makes a new engine from the files as they are now
        self._lock = threading.Lock()
        self._stamp = _stamp(settings.content_dir, settings.locales_dir)

    @property
    def engine(self) -> Engine:
        return self._engine

    def reload(self) -> Reloaded:
        """Reads the content again; keeps serving the old version if anything is wrong."""
        with self._lock:
            self._stamp = _stamp(self._settings.content_dir, self._settings.locales_dir)
            catalog, problems = inspect_content(self._settings.content_dir)
            current = self._engine.catalog
            if catalog is None or errors(problems):
                log.warning("content not reloaded: %d problem(s)", len(errors(problems)))
                return Reloaded(
                    False, current.version, len(current.intents), tuple(errors(problems))
                )
            if catalog.version == current.version:
                return Reloaded(False, current.version, len(current.intents))
            engine = self._build()
            engine.reader.detector.warm_up()
            self._engine = engine
            log.info("content reloaded: version %s", engine.catalog.version)
            return Reloaded(True, engine.catalog.version, len(engine.catalog.intents))

    def reload_if_changed(self) -> Reloaded | None:
        """Reloads when a content or catalog file changed since the last look (cheap: file
        sizes and times), so every worker follows the files within seconds."""
        stamp = _stamp(self._settings.content_dir, self._settings.locales_dir)
        if stamp == self._stamp:
            return None
        return self.reload()


def _stamp(*folders: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
