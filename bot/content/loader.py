"""Loads `content/` into a Catalog, or explains in plain words what stops it from loading."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from rapidfuzz import process

from bot.content.catalog import (
    Catalog,
    Danger,
    Intent,
    Lexicon,
    Notices,
    OutOfScope,
    Place,
    Source,
    Topic,
)
from bot.content.expressions import ExpressionError, parse_expression
from bot.content.problems import Problem, Severity, errors
from bot.content.yamlsource import SourceFile, YamlSyntaxError, read_yaml
from bot.languages import ENGLISH_NAMES, LANGUAGES, Lang

# The intents the engine itself answers by id (/start, /human, /forget, /help, /language, the
# emergency button); every other intent is the deployment's choice.
REQUIRED_INTENTS = (
    "greeting", "help_menu", "talk_to_human", "change_language", "emergency", "forget_me",
)  # fmt: skip
MAX_ANSWER_CHARS = 700
MAX_TITLE_CHARS = 40
REVIEW_EVERY_DAYS = 180
SOURCE_FRESH_DAYS = 365
# Placeholders an answer may hold; the engine fills them from settings.
PLACEHOLDERS = frozenset({"retention_days"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

M = TypeVar("M", bound=BaseModel)
# The ids written in a file that cannot be read (`- id: greeting`, `language: fr`).
_ID_LINE = re.compile(r"^[\s-]*(?:id|language):\s*[\"']?(\w+)", re.MULTILINE)


class ContentError(Exception):
    """Content that must not be served; `problems` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def load_catalog(content_dir: Path, today: dt.date | None = None) -> Catalog:
    """Loads and checks the content; raises ContentError if anything is an error."""
    catalog, problems = inspect_content(content_dir, today)
    if catalog is None or errors(problems):
        raise ContentError(errors(problems))
    return catalog


def inspect_content(
    content_dir: Path, today: dt.date | None = None
) -> tuple[Catalog | None, list[Problem]]:
    """Reads every content file; returns the catalog (None if unusable) and all problems."""
    reader = _Reader(content_dir, today or dt.date.today())
    return reader.read()


class _Reader:
    def __init__(self, content_dir: Path, today: dt.date) -> None:
        self.root = content_dir
        self.today = today
        self.problems: list[Problem] = []
        self.digest = hashlib.sha256()
        # The ids of items that failed to load, per model, for a reason already reported:
        # a reference to one of them is a consequence, not a second problem.
        self.unloaded: dict[str, set[str]] = {}

    def problem(
        self, src: SourceFile, where: tuple[Any, ...], field: str, message: str,
        severity: Severity = Severity.ERROR,
    ) -> None:  # fmt: skip
        self.problems.append(Problem(src.path, src.line_of(where), field, message, severity))

    def read(self) -> tuple[Catalog | None, list[Problem]]:
        if not self.root.is_dir():
            self.problems.append(
                Problem(str(self.root), 1, "", "this content folder does not exist")
            )
            return None, self.problems
        intents = self._read_items("intents", "intents", Intent)
        places = self._read_items("places", "places", Place)
        topics = self._read_items(".", "topics", Topic, only="topics.yaml")
        lexicons = self._read_items("lexicon", None, Lexicon)
        out_of_scope = self._read_items(".", None, OutOfScope, only="out_of_scope.yaml",
                                        required=False)  # fmt: skip
        danger = self._read_items(".", None, Danger, only="danger.yaml")
        notices = self._read_items(".", None, Notices, only="notices.yaml", required=False)

        intent_map = self._unique(intents, "intent")
        place_map = self._unique(places, "place")
        topic_map = self._unique(topics, "topic")
        lexicon_map: dict[str, Lexicon] = {lex.language: lex for lex, _src, _where in lexicons}

        self._check_intents(intents, intent_map)
        self._check_places(places, intent_map)
        self._check_topics(topics, intent_map)
        for found_notices, src, where in notices:
            self._check_notices(found_notices, src, where, intent_map, place_map)
        for found, src, where in out_of_scope:
            self._check_reviewed(src, where, "out_of_scope", found.reviewed)
        for found_danger, src, where in danger:
            self._check_reviewed(src, where, "danger", found_danger.reviewed)
            self._check_danger(found_danger, src, where)
        for lang in LANGUAGES:
            if lang not in lexicon_map and not self._failed(Lexicon, lang):
                self.problems.append(Problem(
                    str(self.root / "lexicon"), 1, "",
                    f"there is no lexicon for {ENGLISH_NAMES[lang]}; add lexicon/{lang}.yaml",
                ))  # fmt: skip
        if errors(self.problems):
            return None, self.problems
        catalog = Catalog(
            intents=intent_map,
            places=place_map,
            topics=topic_map,
            lexicons=dict(lexicon_map),
            version=self.digest.hexdigest()[:12],
            out_of_scope={
                lang: list(examples)
                for found, _src, _where in out_of_scope
                for lang, examples in found.examples.items()
            },
            danger=danger[0][0] if danger else None,
            notices=tuple(n for found, _s, _w in notices for n in found.notices),
        )
        return catalog, self.problems

    def _files(self, folder: str, only: str | None) -> list[Path]:
        base = self.root / folder
        if only:
            return [base / only] if (base / only).is_file() else []
        return sorted(base.glob("*.yaml")) + sorted(base.glob("*.yml")) if base.is_dir() else []

    def _shown(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root.parent))
        except ValueError:
            return str(file)

    def _read_items(
        self,
        folder: str,
        key: str | None,
        model: type[M],
        only: str | None = None,
        required: bool = True,
    ) -> list[tuple[M, SourceFile, tuple[Any, ...]]]:
        """Validates each item of each file; an invalid item is reported and left out."""
        found: list[tuple[M, SourceFile, tuple[Any, ...]]] = []
        files = self._files(folder, only)
        if not files and required:
            expected = self.root / folder / (only or "")
            self.problems.append(
                Problem(self._shown(expected), 1, "", "no content file found here; it is needed")
            )
        for file in files:
            self.digest.update(file.read_bytes())
            try:
                src = read_yaml(file, self._shown(file))
            except YamlSyntaxError as exc:
                self.problems.append(Problem(
                    exc.path, exc.line, "",
                    f"the file cannot be read: {exc.reason}. Check the indentation "
                    "(spaces, not tabs) and the quotes on this line or the one above",
                ))  # fmt: skip
                self._not_loaded(model, *_ID_LINE.findall(file.read_text("utf-8", "replace")))
                continue
            if key is None:
                items: list[tuple[Any, tuple[Any, ...]]] = [(src.data, ())]
            elif not isinstance(src.data, dict) or not isinstance(src.data.get(key), list):
                self.problem(
                    src, (), key, f'the file must start with "{key}:" and a list of items'
                )
                self._not_loaded(model, *_ID_LINE.findall(file.read_text("utf-8", "replace")))
                continue
            else:
                items = [(item, (key, i)) for i, item in enumerate(src.data[key])]
            for item, where in items:
                parsed = self._validate(model, item, src, where)
                if parsed is not None:
                    found.append((parsed, src, where))
        return found

    def _validate(
        self, model: type[M], item: Any, src: SourceFile, where: tuple[Any, ...]
    ) -> M | None:
        name = item.get("id") if isinstance(item, dict) else None
        label = f"{name}." if isinstance(name, str) else ""
        if not isinstance(item, dict):
            self.problem(src, where, label.rstrip("."), "this item must be a set of fields")
            return None
        try:
            parsed: M | None = model.model_validate(item)
            reported: set[tuple[Any, ...]] = set()
        except ValidationError as exc:
            parsed, reported = None, set()
            for err in exc.errors():
                loc = tuple(err["loc"])
                field = label + ".".join(str(p) for p in loc if p != "[key]")
                self.problem(src, (*where, *loc), field, _plain(err))
                reported.add(tuple(p for p in loc if p != "[key]"))
            item_id = item.get("id", item.get("language"))
            if isinstance(item_id, str):
                self._not_loaded(model, item_id)
        self._check_yes_no(model, src, where, label, reported)
        return parsed

    def _check_yes_no(
        self,
        model: type[BaseModel],
        src: SourceFile,
        where: tuple[Any, ...],
        label: str,
        reported: set[tuple[Any, ...]],
    ) -> None:
        """An unquoted yes, no, on or off is read as the word (an example "no" is text), but
        other YAML tools read it as true or false: the editor is told to quote it, unless the
        field is a yes/no one (`urgent: yes`) or the value is already reported as wrong."""
        flags = {name for name, info in model.model_fields.items() if info.annotation is bool}
        for path, word in src.yes_no.items():
            inside = path[len(where) :]
            if path[: len(where)] != where or not inside or inside in reported:
                continue
            if len(inside) == 1 and inside[0] in flags:
                continue
            field = label + ".".join(str(p) for p in inside if not isinstance(p, int))
            self.problem(
                src, path, field,
                f'"{word}" was read as a yes/no value; put it in quotes: "{word}"',
                Severity.WARNING,
            )  # fmt: skip

    def _not_loaded(self, model: type[BaseModel], *item_ids: str) -> None:
        self.unloaded.setdefault(model.__name__, set()).update(item_ids)

    def _failed(self, model: type[BaseModel], item_id: str) -> bool:
        """Whether `item_id` is an item that failed to load, for a reason reported."""
        return item_id in self.unloaded.get(model.__name__, set())

    def _unique(self, found: list[tuple[M, SourceFile, tuple[Any, ...]]], what: str) -> dict:
        result: dict[str, Any] = {}
        first_seen: dict[str, str] = {}
        for item, src, where in found:
            item_id = item.id  # type: ignore[attr-defined]
            if item_id in result:
                self.problem(
                    src, (*where, "id"), "id",
                    f'the {what} id "{item_id}" is already used in {first_seen[item_id]}; '
                    "give this one another id or merge the two",
                )  # fmt: skip
                continue
            result[item_id] = item
            first_seen[item_id] = f"{src.path}:{src.line_of((*where, 'id'))}"
        return result

    def _check_intents(
        self, found: list[tuple[Intent, SourceFile, tuple[Any, ...]]], known: dict[str, Intent]
    ) -> None:
        for intent, src, where in found:
            for part in ("title", "answer", "examples"):
                for lang in LANGUAGES:
                    value = getattr(intent, part).get(lang)
                    if not value:
                        self.problem(
                            src, (*where, part), f"{intent.id}.{part}.{lang}",
                            f"the {ENGLISH_NAMES[lang]} {part} is missing; add it under "
                            f'"{part}:" as "{lang}: ..."',
                        )  # fmt: skip
            self._check_answer_lengths(src, where, intent.id, intent.answer)
            self._check_placeholders(src, where, intent.id, intent.answer)
            self._check_sources(src, where, intent.id, intent.sources)
            for lang, title in intent.title.items():
                if len(title) > MAX_TITLE_CHARS:
                    self.problem(
                        src, (*where, "title", lang), f"{intent.id}.title.{lang}",
                        f"the button title has {len(title)} characters; keep it under "
                        f"{MAX_TITLE_CHARS}",
                    )  # fmt: skip
            for i, related in enumerate(intent.related):
                self._check_known(src, (*where, "related", i), f"{intent.id}.related",
                                  related, known)  # fmt: skip
            self._check_reviewed(src, where, intent.id, intent.reviewed)
        for required in REQUIRED_INTENTS:
            if required in known or self._failed(Intent, required):
                continue
            if not any(i.id == required for i, _s, _w in found):
                self.problems.append(Problem(
                    self._shown(self.root / "intents"), 1, required,
                    f'the required intent "{required}" is missing; the bot needs it '
                    "(see docs/CONTENT.md)",
                ))  # fmt: skip

    def _check_places(
        self, found: list[tuple[Place, SourceFile, tuple[Any, ...]]], intents: dict[str, Intent]
    ) -> None:
        for place, src, where in found:
            self._check_known(src, (*where, "intent"), f"{place.id}.intent",
                              place.intent, intents)  # fmt: skip
            for part in ("name", "serves", "offers"):
                for lang in LANGUAGES:
                    if not getattr(place, part).get(lang):
                        self.problem(
                            src, (*where, part), f"{place.id}.{part}.{lang}",
                            f"the {ENGLISH_NAMES[lang]} {part} is missing; add it under "
                            f'"{part}:" as "{lang}: ..."',
                        )  # fmt: skip
            self._check_sources(src, where, place.id, place.sources)
            self._check_reviewed(src, where, place.id, place.reviewed)

    def _check_topics(
        self, found: list[tuple[Topic, SourceFile, tuple[Any, ...]]], intents: dict[str, Intent]
    ) -> None:
        for topic, src, where in found:
            for lang in LANGUAGES:
                if not topic.title.get(lang):
                    self.problem(
                        src, (*where, "title"), f"{topic.id}.title.{lang}",
                        f'the {ENGLISH_NAMES[lang]} title is missing; add it as "{lang}: ..."',
                    )  # fmt: skip
            for i, intent_id in enumerate(topic.intents):
                self._check_known(src, (*where, "intents", i), f"{topic.id}.intents",
                                  intent_id, intents)  # fmt: skip

    def _check_known(
        self,
        src: SourceFile,
        where: tuple[Any, ...],
        field: str,
        name: str,
        known: dict[str, Any],
        what: str = "intent",
    ) -> None:
        """A reference to an id: unknown is a problem, unless that intent failed to load for
        a reason already reported."""
        if name not in known and not self._failed(Intent, name):
            self.problem(src, where, field,
                         f'there is no {what} "{name}"{_did_you_mean(name, known)}')  # fmt: skip

    def _check_danger(self, danger: Danger, src: SourceFile, where: tuple[Any, ...]) -> None:
        """Every kind speaks all four languages, and every expression can be matched."""
        seen: set[str] = set()
        for k, kind in enumerate(danger.kinds):
            at = (*where, "kinds", k)
            if kind.id in seen:
                self.problem(src, (*at, "id"), f"danger.{kind.id}",
                             f'the kind "{kind.id}" is listed twice; merge the two')  # fmt: skip
            seen.add(kind.id)
            for lang in LANGUAGES:
                if not kind.expressions.get(lang):
                    self.problem(
                        src, (*at, "expressions"), f"danger.{kind.id}.expressions.{lang}",
                        f"there are no {ENGLISH_NAMES[lang]} expressions; add them under "
                        f'"expressions:" as "{lang}:" and a list',
                    )  # fmt: skip
                if kind.answer and not kind.answer.get(lang):
                    self.problem(
                        src, (*at, "answer"), f"danger.{kind.id}.answer.{lang}",
                        f"the {ENGLISH_NAMES[lang]} answer is missing; add it, or remove the "
                        "answer to use the emergency answer",
                    )  # fmt: skip
            self._check_answer_lengths(src, at, f"danger.{kind.id}", kind.answer)
            for lang, expressions in kind.expressions.items():
                self._check_expressions(
                    src, (*at, "expressions", lang), f"danger.{kind.id}.{lang}", expressions
                )
        for section in ("not_danger", "past", "cries"):
            for lang, expressions in getattr(danger, section).items():
                self._check_expressions(
                    src, (*where, section, lang), f"{section}.{lang}", expressions
                )

    def _check_sources(
        self, src: SourceFile, where: tuple[Any, ...], label: str, sources: list[Source]
    ) -> None:
        """A date from the future is a typo; a source neither published nor confirmed by a
        person within a year may be out of date."""
        for i, source in enumerate(sources):
            at = (*where, "sources", i)
            for name in ("date", "retrieved", "checked"):
                day = getattr(source, name)
                if day is not None and day > self.today:
                    self.problem(src, (*at, name), f"{label}.sources",
                                 f"the {name} date {day} is in the future; put a day that has "
                                 "passed")  # fmt: skip
            if (self.today - source.as_of).days > SOURCE_FRESH_DAYS:
                since = (
                    f"is from {source.date}" if source.date else f"was read on {source.retrieved}"
                )
                checked = f", last confirmed {source.checked}" if source.checked else ""
                self.problem(
                    src, (*at, "date" if source.date else "retrieved"), f"{label}.sources",
                    f'"{source.title}" ({source.publisher}) {since}{checked}, more than a year '
                    'ago; find a newer source, or, if it is still the latest word, put '
                    '"checked:" and today\'s date',
                    Severity.WARNING,
                )  # fmt: skip

    def _check_placeholders(
        self, src: SourceFile, where: tuple[Any, ...], label: str, answers: Mapping[Lang, str]
    ) -> None:
        for lang, text in answers.items():
            for name in _PLACEHOLDER.findall(text):
                if name not in PLACEHOLDERS:
                    known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                    self.problem(
                        src, (*where, "answer", lang), f"{label}.answer.{lang}",
                        f'"{{{name}}}" is not something the bot can fill in; use {known}',
                    )  # fmt: skip

    def _check_notices(
        self,
        found: Notices,
        src: SourceFile,
        where: tuple[Any, ...],
        intents: dict[str, Intent],
        places: dict[str, Place],
    ) -> None:
        """Every notice speaks four languages, ends after it starts, and concerns answers or
        places that exist."""
        seen: set[str] = set()
        for n, notice in enumerate(found.notices):
            at = (*where, "notices", n)
            if notice.id in seen:
                self.problem(src, (*at, "id"), notice.id,
                             f'the notice "{notice.id}" is listed twice')  # fmt: skip
            seen.add(notice.id)
            for lang in LANGUAGES:
                if not notice.text.get(lang):
                    self.problem(
                        src, (*at, "text"), f"{notice.id}.text.{lang}",
                        f'the {ENGLISH_NAMES[lang]} text is missing; add it as "{lang}: ..."',
                    )  # fmt: skip
            if notice.ends < notice.starts:
                self.problem(src, (*at, "until"), f"{notice.id}.until",
                             f"the notice ends ({notice.ends}) before it starts "
                             f"({notice.starts})")  # fmt: skip
            known = {**intents, **places}
            for i, concern in enumerate(notice.concerns):
                self._check_known(src, (*at, "concerns", i), f"{notice.id}.concerns",
                                  concern, known, "intent or place")  # fmt: skip
            self._check_sources(src, at, notice.id, notice.sources)
            self._check_reviewed(src, at, notice.id, notice.reviewed)

    def _check_answer_lengths(
        self, src: SourceFile, where: tuple[Any, ...], label: str, answers: Mapping[Lang, str]
    ) -> None:
        for lang, text in answers.items():
            if len(text) > MAX_ANSWER_CHARS:
                self.problem(
                    src, (*where, "answer", lang), f"{label}.answer.{lang}",
                    f"the answer has {len(text)} characters; shorten it to at most "
                    f"{MAX_ANSWER_CHARS} so it fits on a phone screen",
                )  # fmt: skip

    def _check_expressions(
        self, src: SourceFile, where: tuple[Any, ...], field: str, expressions: list[str]
    ) -> None:
        for i, expression in enumerate(expressions):
            try:
                parse_expression(expression)
            except ExpressionError as exc:
                self.problem(src, (*where, i), field, str(exc))

    def _check_reviewed(
        self, src: SourceFile, where: tuple[Any, ...], item_id: str, reviewed: dt.date
    ) -> None:
        age = (self.today - reviewed).days
        if age > REVIEW_EVERY_DAYS:
            self.problem(
                src, (*where, "reviewed"), f"{item_id}.reviewed",
                f"last reviewed {age} days ago ({reviewed}); check the facts against the "
                "source and put today's date",
                Severity.WARNING,
            )  # fmt: skip
        elif age < 0:
            self.problem(
                src, (*where, "reviewed"), f"{item_id}.reviewed",
                f"the date {reviewed} is in the future; put the day a person checked the facts",
            )  # fmt: skip


def _did_you_mean(name: str, known: dict[str, Any]) -> str:
    best = process.extractOne(name, list(known), score_cutoff=70)
    return f'; did you mean "{best[0]}"?' if best else "; check the spelling"


def _plain(err: Any) -> str:
    """Turns a pydantic error into a sentence a non-programmer can act on."""
    kind = err["type"]
    loc = [p for p in err["loc"] if p != "[key]"]
    last = str(loc[-1]) if loc else "value"
    if kind == "missing":
        return f'"{last}" is missing; add it'
    if kind == "undated":
        return ('"date" is missing; add the day the source was published, or, if the page '
                'shows no date, "retrieved:" and the day it was read')  # fmt: skip
    if kind == "extra_forbidden":
        return f'"{last}" is not a field we know; check its spelling or remove it'
    if kind == "literal_error" and last == "grade":
        return (f'grade "{err["input"]}" never ships: use A, B or C as graded in '
                "shared/sources/FACTS-2026.md, or leave the fact out")  # fmt: skip
    if kind == "literal_error" and last in ("kind", "status", "precision"):
        return f'"{err["input"]}" must be one of {err["ctx"]["expected"]}'
    if kind == "literal_error":
        return f'"{err["input"]}" is not one of our languages (es, en, fr, ht)'
    if kind == "string_pattern_mismatch" and last == "url":
        return "must be the full web address of the source, starting with https://"
    if kind.startswith("date"):
        return "must be a date written like 2026-11-27"
    if kind == "string_pattern_mismatch":
        return "use only lowercase letters, digits and _ (like cbp_one_status)"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{err['input']} is out of range: {err['msg'].lower()}"
    if kind in ("float_parsing", "float_type"):
        return f'"{err["input"]}" must be a number like 14.905'
    if kind in ("string_type",):
        return "must be text"
    if kind in ("list_type",):
        return "must be a list (lines starting with - )"
    if kind in ("dict_type",):
        return "must be a set of fields, one per line (like es: ...)"
    if kind == "bool_parsing":
        return "must be true or false"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    return str(err["msg"])
