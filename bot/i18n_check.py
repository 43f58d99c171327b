"""Checks the gettext catalogs: every message translated in every language, same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.content.problems import Problem
from bot.i18n import DOMAIN
from bot.languages import ENGLISH_NAMES, LANGUAGES

_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_catalogs(locales_dir: Path) -> list[Problem]:
    """One problem per untranslated, fuzzy or placeholder-mismatched message."""
    problems: list[Problem] = []
    template = locales_dir / f"{DOMAIN}.pot"
    if not template.exists():
        return [Problem(_shown(template), 1, "", "the message template is missing; run make i18n")]
    with template.open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
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
