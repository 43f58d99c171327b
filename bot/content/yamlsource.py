"""YAML files read with the line of every value, so problems can point at a line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

# The C parser when PyYAML has it: content loads at every start and every reload.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Words YAML 1.1 reads as true or false when unquoted, though people mean the word (an example
# "no", a reply "ok, yes"); `true` and `false` stay booleans (YAML 1.2 keeps those alone).
YES_NO_WORDS = frozenset({"yes", "no", "on", "off"})
_BOOL_TAG = "tag:yaml.org,2002:bool"


@dataclass(frozen=True)
class SourceFile:
    """A parsed YAML file and the line (1-based) where each value starts. An unquoted yes/no
    word (YES_NO_WORDS) is kept as the text it is, and `yes_no` says where each one is, so
    the loader can tell the editor to quote it (other YAML tools read it as true or false)."""

    path: str
    data: Any
    lines: dict[Path_, int]
    yes_no: dict[Path_, str] = field(default_factory=dict)

    def line_of(self, where: Path_) -> int:
        """The line of `where`, or of its nearest parent that exists in the file."""
        for end in range(len(where), -1, -1):
            line = self.lines.get(where[:end])
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    """The file is not valid YAML; `line` is where the parser gave up."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def read_yaml(file: Path, shown_as: str) -> SourceFile:
    """Parses `file` safely; raises YamlSyntaxError with the line of the mistake."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlSyntaxError(
            shown_as, 1, "the file is not UTF-8 text; save it as UTF-8"
        ) from None
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        # The context mark is where the broken construct starts (an unclosed quote or
        # bracket): that is where staff should look, not where the parser gave up.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or "the file is not valid YAML"
        if exc.context and exc.context_mark:
            reason = f"{exc.context}, {reason}"
        raise YamlSyntaxError(shown_as, line, reason) from None
    if node is None:
        return SourceFile(shown_as, None, {(): 1})
    lines: dict[Path_, int] = {}
    yes_no: dict[Path_, str] = {}
    data = _build(node, (), lines, yes_no, shown_as, yaml.constructor.SafeConstructor())
    return SourceFile(shown_as, data, lines, yes_no)


def _build(
    node: yaml.Node,
    where: Path_,
    lines: dict[Path_, int],
    yes_no: dict[Path_, str],
    shown_as: str,
    constructor: yaml.constructor.SafeConstructor,
) -> Any:
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _yes_no_word(key_node) or constructor.construct_object(key_node)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise YamlSyntaxError(
                    shown_as, key_node.start_mark.line + 1, "a key must be a plain word"
                )
            key = str(key)
            if key in result:
                raise YamlSyntaxError(
                    shown_as,
                    key_node.start_mark.line + 1,
                    f'"{key}" appears twice here; keep only one',
                )
            value_where = (*where, key)
            result[key] = _build(value_node, value_where, lines, yes_no, shown_as, constructor)
            # A value is reported at its key's line ("answer:"), where staff will look.
            lines[(*where, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*where, i), lines, yes_no, shown_as, constructor)
            for i, item in enumerate(node.value)
        ]
    word = _yes_no_word(node)
    if word is not None:
        yes_no[where] = word
        return word
    return constructor.construct_object(node)


def _yes_no_word(node: yaml.Node) -> str | None:
    """The text of an unquoted yes/no word that YAML 1.1 would read as true or false."""
    if (
        isinstance(node, yaml.ScalarNode)
        and node.tag == _BOOL_TAG
        and not node.style  # plain: a quoted "no" is text already
        and node.value.lower() in YES_NO_WORDS
    ):
        return str(node.value)
    return None
