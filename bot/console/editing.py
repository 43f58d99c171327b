"""Changes to the content YAML from the console, made the way a careful person would by hand.

ruamel.yaml reads each file round-trip, which tells where every key and list item sits
(line and column); the change is then spliced into the text at that place, so comments, order,
quoting and line wrapping of everything else stay byte for byte what they were and the diff of
a save is the change alone. A change is checked on a copy of the whole content folder first
(the loader's check); content with errors is never written. When the folder is in a git work
tree, each save is a commit by the editor.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.content.catalog import Catalog
from bot.content.loader import inspect_content
from bot.content.problems import Problem, errors

OUT_OF_SCOPE = "out_of_scope"  # the console's name for content/out_of_scope.yaml's examples


class EditError(Exception):
    """A change that cannot be made (an unknown intent, a notice that is not there)."""


@dataclass(frozen=True)
class Edit:
    """One file's new text, and the line (1-based) the change starts on."""

    path: Path
    text: str
    line: int
    summary: str


@dataclass(frozen=True)
class Checked:
    """What the loader says about the content with the edit applied."""

    catalog: Catalog | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(errors(list(self.problems)))

    @property
    def ok(self) -> bool:
        return self.catalog is not None and not self.errors


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _load(path: Path) -> tuple[str, Any]:
    text = path.read_text(encoding="utf-8")
    return text, _yaml().load(text)


def _scalar(value: str) -> str:
    """A one-line YAML scalar for `value`, quoted only when it must be."""
    out = io.StringIO()
    _yaml().dump([" ".join(value.split())], out)
    return out.getvalue().strip()[2:]


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index after the block that starts on line `start` (0-based): the lines after it
    that are blank or indented deeper than `indent` belong to it."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines before the next key stay where they are
    return end


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _splice(text: str, start: int, end: int, new: list[str]) -> str:
    lines = text.split("\n")
    lines[start:end] = new
    return "\n".join(lines)


def find_intent(content_dir: Path, intent_id: str) -> tuple[Path, str, CommentedMap]:
    """The file, text and round-trip node of one intent (only a file that names it is read
    round-trip: that is the slow part)."""
    named = re.compile(rf"^[\s-]*id:\s*[\"']?{re.escape(intent_id)}[\"']?\s*(#.*)?$", re.MULTILINE)
    for path in sorted((content_dir / "intents").glob("*.y*ml")):
        if not named.search(path.read_text(encoding="utf-8")):
            continue
        text, data = _load(path)
        for item in (data or {}).get("intents", []) or []:
            if isinstance(item, CommentedMap) and item.get("id") == intent_id:
                return path, text, item
    raise EditError(f"no intent {intent_id!r} in {content_dir / 'intents'}")


def _examples_node(content_dir: Path, intent_id: str) -> tuple[Path, str, CommentedMap]:
    if intent_id == OUT_OF_SCOPE:
        path = content_dir / "out_of_scope.yaml"
        text, data = _load(path)
        return path, text, data
    return find_intent(content_dir, intent_id)


def add_example(content_dir: Path, intent_id: str, lang: str, example: str) -> Edit:
    """`example` appended to the intent's (or out-of-scope's) examples in `lang`."""
    path, text, node = _examples_node(content_dir, intent_id)
    examples = node.get("examples")
    if not isinstance(examples, CommentedMap):
        raise EditError(f"{intent_id} has no examples to add to")
    lines = text.split("\n")
    item = f"- {_scalar(example)}"
    seq = examples.get(lang)
    if isinstance(seq, CommentedSeq) and len(seq) and seq.fa.flow_style() is False:
        line, column = seq.lc.item(len(seq) - 1)
        dash = column - 2
        end = _block_end(lines, line, dash)
        new_text = _splice(text, end, end, [" " * dash + item])
        at = end
    elif lang in examples:
        raise EditError(f"{intent_id}.examples.{lang} is not a list written one item a line")
    else:
        # A language with no examples yet: a new key after the last one.
        last = list(examples)[-1]
        key_line, key_column = examples.lc.key(last)
        end = _block_end(lines, key_line, key_column)
        new_text = _splice(
            text, end, end, [" " * key_column + f"{lang}:", " " * key_column + item]
        )
        at = end + 1
    summary = f"example for {intent_id} ({lang}): {' '.join(example.split())}"
    return Edit(path, new_text, at + 1, summary)


def set_answer(content_dir: Path, intent_id: str, lang: str, answer: str) -> Edit:
    """The intent's answer in `lang` replaced by `answer` (a literal block, as written)."""
    path, text, node = find_intent(content_dir, intent_id)
    answers = node.get("answer")
    if not isinstance(answers, CommentedMap) or lang not in answers:
        raise EditError(f"{intent_id} has no answer in {lang} to change")
    lines = text.split("\n")
    key_line, key_column = answers.lc.key(lang)
    end = _block_end(lines, key_line, key_column)
    body = [line.rstrip() for line in answer.replace("\r\n", "\n").strip("\n").split("\n")]
    pad = " " * (key_column + 2)
    # A first line starting with a space needs an explicit indentation indicator.
    header = f"{lang}: |2-" if body and body[0].startswith(" ") else f"{lang}: |-"
    new = [" " * key_column + header, *[pad + line if line else "" for line in body]]
    return Edit(
        path, _splice(text, key_line, end, new), key_line + 1, f"answer {intent_id} ({lang})"
    )


def set_reviewed(content_dir: Path, intent_id: str, day: dt.date) -> Edit:
    """The intent's `reviewed:` set to `day`: a person checked it against its sources."""
    path, text, node = find_intent(content_dir, intent_id)
    if "reviewed" not in node:
        raise EditError(f"{intent_id} has no reviewed date")
    line, column = node.lc.key("reviewed")
    lines = text.split("\n")
    old = lines[line]
    comment = old[old.index("#") :] if "#" in old else ""
    lines[line] = (
        " " * column + f"reviewed: {day.isoformat()}" + (f"  {comment}" if comment else "")
    )
    return Edit(path, "\n".join(lines), line + 1, f"reviewed {intent_id} on {day}")


def _notices(content_dir: Path) -> tuple[Path, str, CommentedMap]:
    path = content_dir / "notices.yaml"
    text, data = _load(path)
    if not isinstance(data, CommentedMap):
        raise EditError(f"{path} holds no notices list")
    return path, text, data


def add_notice(content_dir: Path, notice: dict[str, Any]) -> Edit:
    """A new notice at the end of notices.yaml (`notices: []` becomes a block list)."""
    path, text, data = _notices(content_dir)
    out = io.StringIO()
    yaml = _yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump([notice], out)
    block = out.getvalue().rstrip("\n").split("\n")
    lines = text.split("\n")
    notices = data.get("notices")
    key_line, _ = data.lc.key("notices")
    if isinstance(notices, CommentedSeq) and len(notices) and notices.fa.flow_style() is False:
        end = _block_end(lines, key_line, 0)
        new_text = _splice(text, end, end, block)
        at = end
    else:
        if notices:
            raise EditError("notices.yaml lists its notices in brackets: edit it by hand once")
        new_text = _splice(text, key_line, key_line + 1, ["notices:", *block])
        at = key_line + 1
    return Edit(path, new_text, at + 1, f"notice {notice['id']} added")


def end_notice(content_dir: Path, notice_id: str, today: dt.date) -> Edit:
    """The notice is no longer shown from today: its `until` becomes yesterday, or, if it had
    not started yet, it is removed."""
    path, text, data = _notices(content_dir)
    notices = data.get("notices")
    if not isinstance(notices, CommentedSeq):
        raise EditError(f"no notice {notice_id!r} in notices.yaml")
    found = [
        i
        for i, n in enumerate(notices)
        if isinstance(n, CommentedMap) and n.get("id") == notice_id
    ]
    if not found:
        raise EditError(f"no notice {notice_id!r} in notices.yaml")
    index = found[0]
    item = notices[index]
    lines = text.split("\n")
    yesterday = today - dt.timedelta(days=1)
    starts = item.get("from")
    if isinstance(starts, dt.date) and starts > yesterday:
        line, column = notices.lc.item(index)
        end = _block_end(lines, line, column - 2)
        new_text = _splice(text, line, end, [])
        if not [n for n in notices if n is not item]:
            key_line, _ = data.lc.key("notices")
            new_text = _splice(new_text, key_line, key_line + 1, ["notices: []"])
        return Edit(path, new_text, line + 1, f"notice {notice_id} removed before it started")
    line, column = item.lc.key("until")
    lines[line] = " " * column + f"until: {yesterday.isoformat()}"
    return Edit(path, "\n".join(lines), line + 1, f"notice {notice_id} ended on {yesterday}")


def check(content_dir: Path, edit: Edit | None, today: dt.date | None = None) -> Checked:
    """The loader's verdict on the content as it would be with `edit`, read from a copy
    (named like the original, so problems name the same files)."""
    if edit is None:
        catalog, problems = inspect_content(content_dir, today)
        return Checked(catalog, tuple(problems))
    with tempfile.TemporaryDirectory(prefix="console-check-") as scratch:
        copy = Path(scratch) / content_dir.name
        shutil.copytree(content_dir, copy, ignore=shutil.ignore_patterns(".git"))
        (copy / edit.path.relative_to(content_dir)).write_text(edit.text, encoding="utf-8")
        catalog, problems = inspect_content(copy, today)
    shown = [_renamed(p, content_dir) for p in problems]
    return Checked(catalog, tuple(shown))


def _renamed(problem: Problem, content_dir: Path) -> Problem:
    """A problem found in the copy, naming the file as the check on the real folder would."""
    parts = Path(problem.file).parts
    if content_dir.name in parts:
        inside = Path(*parts[parts.index(content_dir.name) + 1 :])
        real = content_dir / inside
        try:
            shown = str(real.relative_to(content_dir.parent))
        except ValueError:
            shown = str(real)
        return Problem(shown, problem.line, problem.field, problem.message, problem.severity)
    return problem


def save(edit: Edit, editor: str) -> str | None:
    """Writes the file whole (a reader never sees half of it) and, in a git work tree,
    commits it by `editor`; returns the commit id, if any."""
    temporary = edit.path.with_name(f".{edit.path.name}.console")
    temporary.write_text(edit.text, encoding="utf-8")
    os.replace(temporary, edit.path)
    return _commit(edit.path, editor, edit.summary)


def _commit(path: Path, editor: str, summary: str) -> str | None:
    folder = path.parent
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree").strip() == "true"
    except (OSError, subprocess.CalledProcessError):
        return None
    if not inside:
        return None
    author = f"{editor} <console@migrant-bot.invalid>"
    env = {"GIT_COMMITTER_NAME": editor, "GIT_COMMITTER_EMAIL": "console@migrant-bot.invalid"}
    _git(folder, "add", "--", path.name)
    _git(folder, "commit", "-q", f"--author={author}", "-m", f"console: {summary}", "--",
         path.name, env=env)  # fmt: skip
    return _git(folder, "rev-parse", "HEAD").strip()


def _git(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=30,
    ).stdout
