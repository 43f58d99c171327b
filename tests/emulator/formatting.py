"""Telegram text formatting: parse_mode parsing, entity offsets and auto-detected entities.

Telegram turns formatted text into plain text plus ``MessageEntity`` objects whose offsets are
counted in UTF-16 code units, rejects malformed markup with "can't parse entities" and trims
surrounding whitespace. Bots that get any of that wrong only find out in production, so the
emulator reproduces it closely enough for tests to catch it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


class EntityParseError(ValueError):
    """Markup Telegram would refuse; the message is the part after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram entity offset and limit."""
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of a character index, as quoted in Telegram's parse errors."""
    return len(text[:index].encode("utf-8"))


@dataclass
class _Open:
    """An entity whose end marker has not been seen yet."""

    kind: str
    start: int
    byte: int
    tag: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _Builder:
    """Accumulates plain text and entities while a parser walks the markup."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[Entity] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def close(self, opened: _Open) -> None:
        """Emit the entity for ``opened``; empty entities are dropped like Telegram does."""
        if self.length > opened.start:
            entity = {"offset": opened.start, "length": self.length - opened.start}
            self.entities.append({"type": opened.kind, **entity, **opened.extra})

    def result(self) -> tuple[str, list[Entity]]:
        return "".join(self.parts), sort_entities(self.entities)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order entities as Telegram does: by offset, outer (longer) entities first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------- HTML

_HTML_KINDS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram's HTML dialect; raises EntityParseError where Telegram would."""
    out, i = _Builder(), 0
    stack: list[_Open] = []
    while i < len(source):
        char = source[i]
        if char == "&":
            i = _html_char_ref(source, i, out)
        elif char != "<":
            end = _next_special(source, i, "<&")
            out.add(source[i:end])
            i = end
        elif source.startswith("</", i):
            i = _html_end_tag(source, i, out, stack)
        else:
            i = _html_start_tag(source, i, out, stack)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.result()


def _next_special(source: str, start: int, specials: str) -> int:
    """Index of the next character in ``specials`` (or the end), to copy plain runs at once."""
    positions = [p for p in (source.find(c, start) for c in specials) if p >= 0]
    return min(positions, default=len(source))


def _html_char_ref(source: str, i: int, out: _Builder) -> int:
    """Decode ``&lt;``-style references; unknown ones stay literal like in Telegram."""
    match = _CHAR_REF.match(source, i)
    if match is None:
        out.add("&")
        return i + 1
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        out.add(chr(code) if 0 < code <= 0x10FFFF else "\ufffd")
    elif name in _NAMED_ENTITIES:
        out.add(_NAMED_ENTITIES[name])
    else:
        out.add(match.group(0))
    return match.end()


def _html_start_tag(source: str, i: int, out: _Builder, stack: list[_Open]) -> int:
    """Open a supported tag and return the index after its ``>``."""
    name_match = _TAG_NAME.match(source, i + 1)
    assert name_match is not None  # the pattern accepts the empty string
    name = name_match.group(0).lower()
    where = byte_offset(source, i)
    if name not in _HTML_KINDS:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {where}')
    close = source.find(">", name_match.end())
    if close < 0:
        raise EntityParseError(f"Unclosed start tag at byte offset {where}")
    attributes = _html_attributes(source[name_match.end() : close])
    opened = _Open(kind=_HTML_KINDS[name], start=out.length, byte=where, tag=name)
    _apply_html_attributes(opened, attributes, stack, where)
    stack.append(opened)
    return close + 1


def _html_attributes(raw: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw.rstrip("/")):
        value = match.group(2) or ""
        if value[:1] in "\"'":
            value = value[1:-1]
        attributes[match.group(1).lower()] = value
    return attributes


def _apply_html_attributes(
    opened: _Open, attributes: dict[str, str], stack: list[_Open], where: int
) -> None:
    """Turn tag attributes into entity fields (link targets, languages, spoiler spans)."""
    if opened.tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
    if opened.tag == "a":
        _apply_link(opened, attributes.get("href", ""))
    elif opened.tag == "blockquote" and "expandable" in attributes:
        opened.kind = "expandable_blockquote"
    elif opened.tag == "tg-emoji":
        opened.extra = {"custom_emoji_id": attributes.get("emoji-id", "")}
    elif opened.tag == "code" and stack and stack[-1].tag == "pre":
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1].extra = {"language": language.removeprefix("language-")}
            opened.kind = ""  # the language lives on the enclosing pre entity


def _apply_link(opened: _Open, href: str) -> None:
    mention = re.fullmatch(r"tg://user\?id=(\d+)", href)
    if mention:
        opened.kind = "text_mention"
        opened.extra = {"user": {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}}
    elif href:
        opened.extra = {"url": href}
    else:
        opened.kind = ""  # <a> without href is plain text in Telegram


def _html_end_tag(source: str, i: int, out: _Builder, stack: list[_Open]) -> int:
    where = byte_offset(source, i)
    close = source.find(">", i)
    if close < 0:
        raise EntityParseError(f"Unclosed end tag at byte offset {where}")
    name = source[i + 2 : close].strip().lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {where}")
    if name != stack[-1].tag:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {where}, expected "</{stack[-1].tag}>", '
            f'found "</{name}>"'
        )
    opened = stack.pop()
    if opened.kind:
        out.close(opened)
    return close + 1


# --------------------------------------------------------------------------- MarkdownV2

_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MD2_TOGGLES = {
    "*": "bold",
    "__": "underline",
    "_": "italic",
    "~": "strikethrough",
    "||": "spoiler",
}


class _MarkdownV2:
    """Single-pass MarkdownV2 parser following the Bot API's escaping rules."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()
        self.stack: list[_Open] = []
        self.quote: _Open | None = None
        self.quote_end = 0

    def parse(self) -> tuple[str, list[Entity]]:
        i = 0
        while i < len(self.src):
            i = self._step(i)
        if self.stack:
            top = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MD2_NAMES[top.kind]} entity at byte offset {top.byte}"
            )
        self._end_quote(self.out.length)
        return self.out.result()

    def _step(self, i: int) -> int:
        if self.stack and self.stack[-1].kind in ("code", "pre"):
            return self._in_code(i)
        if i == 0 or self.src[i - 1] == "\n":
            i = self._line_start(i)
            if i >= len(self.src):
                return i
        char = self.src[i]
        if char == "\\" and i + 1 < len(self.src) and 0 < ord(self.src[i + 1]) < 127:
            self.out.add(self.src[i + 1])
            return i + 2
        if char == "\n" and self.quote is not None:
            self.quote_end = self.out.length
        if char not in _MD2_RESERVED:
            self.out.add(char)
            return i + 1
        return self._marker(i)

    def _line_start(self, i: int) -> int:
        """Handle ``>`` block quotes, which only exist at the start of a line."""
        if self.src.startswith(">", i):
            if self.quote is None:
                self.quote = _Open("blockquote", self.out.length, byte_offset(self.src, i))
            return i + 1
        self._end_quote(self.quote_end)
        return i

    def _end_quote(self, end: int) -> None:
        if self.quote is None:
            return
        if end > self.quote.start:
            length = end - self.quote.start
            entity = {"type": "blockquote", "offset": self.quote.start, "length": length}
            self.out.entities.append(entity)
        self.quote = None

    def _in_code(self, i: int) -> int:
        top = self.stack[-1]
        closer = "```" if top.kind == "pre" else "`"
        if self.src[i] == "\\" and self.src[i + 1 : i + 2] in ("`", "\\"):
            self.out.add(self.src[i + 1])
            return i + 2
        if self.src.startswith(closer, i):
            self.out.close(self.stack.pop())
            return i + len(closer)
        self.out.add(self.src[i])
        return i + 1

    def _marker(self, i: int) -> int:
        for token, kind in _MD2_TOGGLES.items():
            if self.src.startswith(token, i):
                self._toggle(kind, i)
                return i + len(token)
        if self.src.startswith("```", i):
            return self._open_pre(i)
        if self.src[i] == "`":
            self.stack.append(_Open("code", self.out.length, byte_offset(self.src, i)))
            return i + 1
        if self.src[i] == "[" or self.src.startswith("![", i):
            kind = "text_link" if self.src[i] == "[" else "custom_emoji"
            self.stack.append(_Open(kind, self.out.length, byte_offset(self.src, i)))
            return i + (1 if kind == "text_link" else 2)
        if (
            self.src[i] == "]"
            and self.stack
            and self.stack[-1].kind in ("text_link", "custom_emoji")
        ):
            return self._close_link(i)
        raise EntityParseError(
            f"Character '{self.src[i]}' is reserved and must be escaped with the preceding '\\'"
        )

    def _toggle(self, kind: str, i: int) -> None:
        if self.stack and self.stack[-1].kind == kind:
            self.out.close(self.stack.pop())
            return
        if any(opened.kind == kind for opened in self.stack):
            top = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MD2_NAMES[top.kind]} entity at byte offset {top.byte}"
            )
        self.stack.append(_Open(kind, self.out.length, byte_offset(self.src, i)))

    def _open_pre(self, i: int) -> int:
        opened = _Open("pre", self.out.length, byte_offset(self.src, i))
        body = i + 3
        newline = self.src.find("\n", body)
        closing = self.src.find("```", body)
        if 0 <= newline < closing:
            language = self.src[body:newline].strip()
            if language and re.fullmatch(r"[\w+#.-]+", language):
                opened.extra = {"language": language}
                body = newline + 1
        self.stack.append(opened)
        return body

    def _close_link(self, i: int) -> int:
        opened = self.stack.pop()
        if not self.src.startswith("(", i + 1):
            raise EntityParseError(
                f"Can't find end of {_MD2_NAMES[opened.kind]} entity at byte offset {opened.byte}"
            )
        url, end = _read_url(self.src, i + 2)
        if end < 0:
            raise EntityParseError(
                f"Can't find end of a URL at byte offset {byte_offset(self.src, i)}"
            )
        if opened.kind == "custom_emoji":
            opened.extra = {"custom_emoji_id": url.rpartition("id=")[2]}
        else:
            _apply_link(opened, url)
        if opened.kind:
            self.out.close(opened)
        return end + 1


def _read_url(source: str, start: int) -> tuple[str, int]:
    """Read a link target up to an unescaped ``)``; returns (url, index of ``)`` or -1)."""
    chars: list[str] = []
    i = start
    while i < len(source):
        if source[i] == "\\" and i + 1 < len(source):
            chars.append(source[i + 1])
            i += 2
        elif source[i] == ")":
            return "".join(chars), i
        else:
            chars.append(source[i])
            i += 1
    return "", -1


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2; raises EntityParseError for unescaped reserved characters."""
    return _MarkdownV2(source).parse()


# --------------------------------------------------------------------------- legacy Markdown

_LEGACY = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Parse the legacy Markdown mode: no nesting, only ``_*`[`` are special."""
    out, i = _Builder(), 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
        elif source.startswith("```", i) or char in _LEGACY or char == "[":
            i = _legacy_entity(source, i, out)
        else:
            out.add(char)
            i += 1
    return out.result()


def _legacy_entity(source: str, i: int, out: _Builder) -> int:
    marker = "```" if source.startswith("```", i) else source[i]
    closer = "]" if marker == "[" else marker
    end = source.find(closer, i + len(marker))
    if end < 0:
        where = byte_offset(source, i)
        raise EntityParseError(f"Can't find end of the entity starting at byte offset {where}")
    inner = source[i + len(marker) : end]
    opened = _Open("pre" if marker == "```" else _LEGACY.get(marker, "text_link"), out.length, 0)
    next_index = end + len(closer)
    if marker == "[":
        if not source.startswith("(", next_index):
            out.add(source[i:next_index])
            return next_index
        url, url_end = _read_url(source, next_index + 1)
        if url_end < 0:
            where = byte_offset(source, i)
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {where}")
        _apply_link(opened, url)
        next_index = url_end + 1
    out.add(inner)
    if opened.kind:
        out.close(opened)
    return next_index


# --------------------------------------------------------------------------- pipeline

_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` (case-insensitive); raises ValueError for an unknown mode."""
    if not parse_mode:
        return text, []
    parser = _PARSERS.get(parse_mode.lower())
    if parser is None:
        raise ValueError("unsupported parse_mode")
    return parser(text)


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace like Telegram, shifting and clipping entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


_AUTO_PATTERNS = [
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("email", re.compile(r"(?<![\w.@+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'\u2019]")),
]


def auto_entities(text: str, existing: list[Entity] | None = None) -> list[Entity]:
    """Entities Telegram detects by itself (commands, mentions, hashtags, URLs, e-mails).

    Detected ranges never overlap entities that are already present, so explicit
    formatting wins, as it does in Telegram clients.
    """
    taken = [(e["offset"], e["offset"] + e["length"]) for e in existing or []]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group(0))
            if all(end <= lo or start >= hi for lo, hi in taken):
                taken.append((start, end))
                found.append({"type": kind, "offset": start, "length": end - start})
    return sort_entities(found)


def entity_text(text: str, entity: Entity) -> str:
    """The substring an entity covers, converting its UTF-16 offsets back to Python indices."""
    encoded = text.encode("utf-16-le")
    start, length = entity["offset"] * 2, entity["length"] * 2
    return encoded[start : start + length].decode("utf-16-le")
