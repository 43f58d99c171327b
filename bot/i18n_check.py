"""Checks the gettext catalogs: every UI sentence of the code in the template, every message
translated in every language, same placeholders."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.content.problems import Problem
from bot.i18n import DOMAIN
from bot.languages import ENGLISH_NAMES, LANGUAGES

_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
CODE = Path(__file__).resolve().parent  # the package whose sentences the catalogs translate


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _singular(message_id: str | Sequence[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def code_messages(code_dir: Path) -> dict[str, tuple[str, int]]:
    """Each sentence marked for translation in the code (as `make i18n` extracts them),
    with the file and line of its first use."""
    found: dict[str, tuple[str, int]] = {}
    for name, line, message, _comments, _context in extract_from_dir(
        code_dir, method_map=[("**.py", "python")]
    ):
        found.setdefault(_singular(message), (str(code_dir / name), line))
    return found


def check_catalogs(locales_dir: Path, code_dir: Path = CODE) -> list[Problem]:
    """One problem per sentence of the code missing from the template (or left in it after
    the code stopped using it), and per untranslated, fuzzy or placeholder-mismatched
    message."""
    problems: list[Problem] = []
    template = locales_dir / f"{DOMAIN}.pot"
    if not template.exists():
        return [Problem(_shown(template), 1, "", "the message template is missing; run make i18n")]
    with template.open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
    in_template = {_singular(m) for m in wanted}
    in_code = code_messages(code_dir)
    for sentence, (file, line) in sorted(in_code.items()):
        if sentence not in in_template:
            problems.append(Problem(
                _shown(Path(file)), line, f'"{sentence[:40]}"',
                "sentence not in locales/messages.pot: run make i18n, then translate it",
            ))  # fmt: skip
    for stale in sorted(in_template - set(in_code)):
        problems.append(Problem(
            _shown(template), 1, f'"{stale[:40]}"',
            "the code no longer uses this message: run make i18n to drop it",
        ))  # fmt: skip
    for lang in LANGUAGES:
        po = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        name = ENGLISH_NAMES[lang]
        if not po.exists():
            problems.append(Problem(_shown(po), 1, "", f"the {name} catalog is missing"))
            continue
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        seen = set()
        for message in catalog:
            if not message.id:
                continue
            seen.add(message.id)
            line = message.lineno or 1
            short = str(message.id)[:40]
            if not message.string or message.fuzzy:
                untranslated = f"no {name} translation yet; write it in msgstr"
                problems.append(Problem(_shown(po), line, f'"{short}"', untranslated))
            elif placeholders(str(message.id)) != placeholders(str(message.string)):
                problems.append(Problem(
                    _shown(po), line, f'"{short}"',
                    "the translation must keep the same {placeholders} as the original",
                ))  # fmt: skip
        for missing in sorted(wanted - seen):
            problems.append(Problem(
                _shown(po), 1, f'"{str(missing)[:40]}"',
                f"message not in the {name} catalog; run make i18n to add it, then translate",
            ))  # fmt: skip
    return problems
